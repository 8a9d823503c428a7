"""The message bus: RabbitMQ topology, broker (real or in memory), publishers and consumers.

Import each part from its module (``services.bus.runner``, ``services.bus.consumers`` …): the
package itself imports nothing, so a service that uses one part of the bus (the notices service
its message parsing, say) never pulls in the consumers that call that service.
"""
