// Kept in step with package.json by test/unit/lib/version.test.ts; a constant avoids reading
// package.json from disk at every CLI start.
export const VERSION = '0.1.0';
