export * from './http';
export * from './invariants';
export * from './paths';
export * from './redis-server';
export * from './service-process';
export * from './system';
export * from './faults';
