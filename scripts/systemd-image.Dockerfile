# A Debian image that boots systemd as PID 1: the target of the demo and of the Molecule tests.
ARG BASE
FROM ${BASE}
ENV container=docker
COPY host-ca-bundle.crt /usr/local/share/ca-certificates/host-ca-bundle.crt
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      systemd systemd-sysv dbus python3 python3-apt sudo ca-certificates iproute2 procps curl \
 && update-ca-certificates >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && touch -d @0 /var/lib/apt/lists \
 && rm -f /etc/machine-id && touch /etc/machine-id \
 && systemctl mask systemd-logind.service getty.target console-getty.service systemd-udevd.service \
      systemd-udev-trigger.service systemd-modules-load.service sys-kernel-config.mount >/dev/null 2>&1 || true
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
