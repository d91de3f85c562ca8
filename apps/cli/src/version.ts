declare const PASSTHRU_VERSION: string;
/** The CLI's version, the one constant (esbuild defines PASSTHRU_VERSION in the bundle; sources run as dev). */
export const version = typeof PASSTHRU_VERSION === 'string' ? PASSTHRU_VERSION : '0.0.0-dev';
