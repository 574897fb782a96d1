export * from './audit-fold';
export * from './datadog-source';
export * from './input-files';
export * from './log-lines';
export * from './report-format';
