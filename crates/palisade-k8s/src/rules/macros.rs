/// Declares a rule: a unit struct whose doc comment is the rule's
/// documentation (`palisade rules CODE`, `docs/rules/`), and its metadata.
///
/// ```ignore
/// declare_rule! {
///     /// ## What it does
///     /// …
///     pub struct PrivilegedContainer {
///         code: "K8S001",
///         name: "privileged-container",
///         title: "Container runs in privileged mode",
///         severity: Critical,
///         references: [Pss("baseline"), Cis("5.2.1")],
///         fix: "Remove `privileged: true` from the container's securityContext.",
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $ty:ident {
            code: $code:literal,
            name: $name:literal,
            title: $title:literal,
            severity: $severity:ident,
            $(scanner: $scanner:ident,)?
            references: [$($fw:ident($id:literal)),* $(,)?],
            fix: $fix:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $ty;

        impl $crate::rules::Described for $ty {
            fn meta(&self) -> &'static ::palisade_core::RuleMeta {
                static META: ::palisade_core::RuleMeta = ::palisade_core::RuleMeta {
                    code: ::std::borrow::Cow::Borrowed($code),
                    name: ::std::borrow::Cow::Borrowed($name),
                    title: ::std::borrow::Cow::Borrowed($title),
                    severity: ::palisade_core::Severity::$severity,
                    scanner: $crate::declare_rule!(@scanner $($scanner)?),
                    references: ::std::borrow::Cow::Borrowed(&[
                        $(::palisade_core::Reference::new(::palisade_core::Framework::$fw, $id)),*
                    ]),
                    fix: ::std::borrow::Cow::Borrowed($fix),
                    doc: ::std::borrow::Cow::Borrowed(concat!($($doc, "\n"),*)),
                };
                &META
            }
        }
    };
    (@scanner) => { ::palisade_core::Scanner::Config };
    (@scanner $scanner:ident) => { ::palisade_core::Scanner::$scanner };
}
