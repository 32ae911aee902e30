// The test's configuration (set on the page before it loads).
export const config = window.auditConfig;
