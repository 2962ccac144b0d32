// Versions written into files: the library's (a test keeps it equal to package.json's) and the artifact
// container's format version, bumped on any change a version-1 reader could misread.
export const KILN_VERSION = '0.1.0';
export const ARTIFACT_FORMAT_VERSION = 1;
