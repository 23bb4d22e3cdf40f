//! Without framecheck's tracking allocator the allocation property fails,
//! saying how to install it: never a silent pass.

use framecheck::{alloc_case, strategies, AllocBound, FailureKind};
use tokio_util::codec::LinesCodec;

#[test]
fn property_fails_with_how_to_install_the_allocator() {
    let failure = framecheck::check_alloc_bound(LinesCodec::new, strategies::lines()).unwrap_err();
    assert_eq!(failure.kind(), &FailureKind::AllocatorNotInstalled);
    let report = failure.to_string();
    assert!(report.contains("does not install it"), "{report}");
    assert!(
        report.contains("#[global_allocator]")
            && report.contains(
                "static ALLOC: framecheck::alloc::Tracking = framecheck::alloc::Tracking::new();"
            ),
        "{report}"
    );
}

#[test]
fn one_case_fails_the_same_way() {
    let failure =
        alloc_case(&mut LinesCodec::new(), b"a\n", &[], AllocBound::default()).unwrap_err();
    assert_eq!(failure.kind(), &FailureKind::AllocatorNotInstalled);
}
