"""Run-time code of a spot cluster: an AWS Lambda function, standard library and boto3 only.

A rack's compute is an ECS cluster on an EC2 Auto Scaling group whose mixed
instances policy runs mostly on spot. Native features cover most of spot's
risks (capacity rebalancing, price-capacity-optimized allocation across
several equivalent types); this function closes the two gaps they leave:

1. **Drain before a node disappears** (``handler``, ``aws.drain_instance``): on a
   spot interruption warning the node's ECS container instance is set to
   DRAINING, so its tasks are rescheduled and leave the load balancer within
   the two minutes' notice.
2. **On-demand fallback and the way back to spot** (``decision``): an ASG does
   not fall back to on-demand when spot capacity cannot be had; the function
   raises the on-demand share when the group stays short while spot launches
   fail (a one-zone blip, which the group gets over by launching in another
   zone, is not enough), restores it once spot is back, and then replaces the
   extra on-demand nodes with spot ones, one at a time, launching before
   removing, never terminating a node that runs tasks.

Reconciles of a group never run at once: launch failures and the schedule
reach the function through an SQS FIFO queue, one message group per group
(``wiring``). The state machine, what each event does, what AWS does on its
own and the guarantees (checked against a model of AWS, ``tests/spot_model.py``)
are in ``docs/spot.md``.

Modules: ``config`` (environment variables), ``decision`` (pure: state in,
decision out), ``events`` (EventBridge event shapes), ``aws`` (boto3: read,
apply, drain), ``handler`` (entry point ``paaskit.spot.handler.handler``),
``log`` (JSON lines), ``wiring`` (event patterns, environment and IAM policy
for the component that deploys the function).

The Lambda zip holds an empty ``paaskit/__init__.py`` and this package, so
nothing here imports from the rest of paaskit, nor pulumi or pydantic; and
this ``__init__`` imports nothing, so the component can import ``wiring``
without boto3 being installed.
"""

__all__ = []
