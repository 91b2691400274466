"""Tables shipped with paaskit (instance-type catalogue, price table); each records its source."""

__all__: list[str] = []
