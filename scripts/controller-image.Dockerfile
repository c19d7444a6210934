# A controller for the ansible-core 2.21 lane of `make test`: Debian 13 (Python 3.13), the pinned
# venv of requirements-core221.txt + constraints-core221.txt in /opt/venv, rsync (synchronize),
# git, the Docker CLI (the targets are the host engine's containers, reached through its socket).
ARG BASE
FROM ${BASE}
COPY host-ca-bundle.crt /usr/local/share/ca-certificates/host-ca-bundle.crt
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      python3 python3-venv rsync git docker-cli ca-certificates openssh-client \
 && update-ca-certificates >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY requirements-core221.txt constraints-core221.txt /opt/
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install -q --disable-pip-version-check --no-cache-dir \
      -r /opt/requirements-core221.txt -c /opt/constraints-core221.txt
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
CMD ["bash"]
