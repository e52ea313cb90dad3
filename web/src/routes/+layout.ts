// A single-page app: nothing is rendered on the server (public pages are,
// by the Rust server itself).
export const ssr = false;
export const prerender = false;
export const trailingSlash = "never";
