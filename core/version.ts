/** The pipeline version, written into every projection's `_meta`. A unit test keeps it equal to package.json. */
export const PIPELINE_VERSION = '0.1.0';
