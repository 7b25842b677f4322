"""Payment gateways: the protocols payment systems speak (OSMP/QIWI, Sberbank, a signed
webhook) as plugins behind one interface (docs/payments.md).

- ``config``: the instances configured in cfg/config's ``payments`` section;
- ``base``: the interface (commands, outcomes, the registry of gateway types);
- ``intake``: check, pay, cancel and status for every gateway, through the services;
- ``osmp``, ``sberbank``, ``webhook``: thin adapters, one per wire;
- ``views``: the one endpoint ``/pay/<type>/<name>/`` (source IP, then the protocol).
"""
