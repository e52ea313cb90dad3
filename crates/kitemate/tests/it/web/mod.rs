//! The browser's side: the web app's files as the binary serves them, and
//! the public pages a browser gets where an API client gets JSON. The app
//! itself is tested in Chromium by `web/tests` (`npm --prefix web test`).

mod assets;
mod pages;
