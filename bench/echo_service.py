"""A bare nameko service: the floor that every RPC of ours is compared with."""
from nameko.rpc import rpc


class Echo:
    name = "bench_echo"

    @rpc
    def ping(self, value: object = None) -> object:
        return value
