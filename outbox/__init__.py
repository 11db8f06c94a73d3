"""The outbox: delivering what the core wrote to the outbox table, on every channel.

Below the channel adapters (sms/, bot/) and above the core: the core writes rows
(core.services.outbox) in the same transaction as the change they report; this
package claims them, hands them to the adapters' senders at the providers' rates
(`ratelimit`), and records what happened (`delivery`). The adapters implement
the protocols in `channels`; the composition root (buonispesa/) wires them.
"""
