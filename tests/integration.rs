//! The one integration test binary; each area is a module under `tests/integration/`.
//! (A crate root looks for its modules beside itself, hence the explicit paths.)

#[path = "integration/model.rs"]
mod model;

#[path = "integration/duty.rs"]
mod duty;
