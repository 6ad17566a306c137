//! Placeholder: filled in shortly.
