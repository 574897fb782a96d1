// Setup file of the `faults-affinity` jest project: the same fault tests, with every inventory
// replica claiming by affinity (CLAIM_MODE=affinity) instead of racing for each order.
process.env.CLAIM_MODE = 'affinity';
