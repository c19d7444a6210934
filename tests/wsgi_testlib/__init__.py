"""Helpers shared by the Molecule/testinfra tests: real HTTP to the target containers, and real
ansible-playbook runs of the collection against them."""
