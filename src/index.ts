// `import … from 'fived'`: the server package's programmatic surface that is safe to load
// anywhere (no uWS, Redis or worker start-up): the pure 5D core (clock maths, rules, fair draw,
// settlement; @noble/hashes for the draw), the error codes and the wire protocol's types and names.
// The processes themselves are started by the `fived` command (bin/fived.js). The player SDK is
// `@fived/client` (also reachable as `fived/client`).
export * from './core/index.js';
export * from './errors.js';
export * from './protocol.js';
