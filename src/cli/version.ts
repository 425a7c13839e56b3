/** shipgate's version, as written into SBOMs and shown by --version. */
export const VERSION = "0.1.0";
