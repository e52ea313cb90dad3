//! Every bucket the app declares, in one place so `App` can hand the list to
//! the object store at startup.

use platform::objects::BucketDecl;

/// Console exports as users uploaded them, kept so an import can be re-run
/// or inspected. Private: read back only through signed URLs. HTTP uploads
/// stop at 20 MiB; `kitemate import` from the shell takes larger files.
pub static IMPORTS: BucketDecl = BucketDecl::private("imports")
    .max_size(512 << 20)
    .content_types(&["text/csv", "text/plain", "application/csv"]);

/// Pictures shown on public pages (shared widgets, profiles).
pub static IMAGES: BucketDecl = BucketDecl::public("images")
    .max_size(2 << 20)
    .content_types(&["image/png", "image/jpeg", "image/webp", "image/gif"]);

pub static ALL: &[&BucketDecl] = &[&IMPORTS, &IMAGES];
