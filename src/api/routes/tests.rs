use std::path::Path;

use super::*;

#[test]
fn only_the_probes_are_public_and_every_v1_route_is_authenticated() {
    for route in table() {
        match route.access {
            Access::Public => assert!(
                ["/healthz", "/readyz"].contains(&route.path),
                "{route:?} is public"
            ),
            Access::PartnerSignature => assert_eq!(route.path, "/v1/partners/{name}/callbacks"),
            Access::WebhookSecret => assert_eq!(route.path, "/v1/ingest/odoo"),
            Access::Role(_) => assert!(route.path.starts_with("/v1/"), "{route:?}"),
        }
    }
}

#[test]
fn each_route_declares_the_role_of_the_issue() {
    let role_of = |method: Method, path: &str| {
        table()
            .into_iter()
            .find(|r| r.method == method && r.path == path)
            .map(|r| r.access)
    };
    let expected = [
        (Method::GET, "/v1/shipments/{id:.+}", Role::Viewer),
        (Method::POST, "/v1/shipments", Role::Integrator),
        (
            Method::POST,
            "/v1/shipments/{id:.+}/screening/decision",
            Role::ComplianceOfficer,
        ),
        (
            Method::POST,
            "/v1/shipments/{id:.+}/screening/override",
            Role::ComplianceOfficer,
        ),
        (
            Method::POST,
            "/v1/shipments/{id:.+}/screening/override/approve",
            Role::ComplianceOfficer,
        ),
        (
            Method::POST,
            "/v1/shipments/{id:.+}/screening/override/reject",
            Role::ComplianceOfficer,
        ),
        (
            Method::POST,
            "/v1/shipments/{id:.+}/exceptions/{exception}/resolve",
            Role::Operator,
        ),
    ];
    for (method, path, role) in expected {
        assert_eq!(
            role_of(method.clone(), path),
            Some(Access::Role(role)),
            "{method} {path}"
        );
    }
}

/// The table is the only registration path: no module of the API registers a route itself
/// (actix's route macros, `web::resource`, `.route(`, `.service(`), where it would escape the
/// access check.
#[test]
fn no_api_module_registers_a_route_outside_the_table() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut files = vec![api.with_extension("rs")];
    let mut folders = vec![api];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("src/api is readable") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let registrations = [
        "#[get(",
        "#[post(",
        "#[put(",
        "#[patch(",
        "#[delete(",
        "#[route(",
        "web::resource(",
        "web::scope(",
        ".service(",
        ".route(",
    ];
    for file in files {
        if file.ends_with("api/routes.rs") || file.ends_with("api/routes/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file");
        for needle in registrations {
            assert!(
                !text.contains(needle),
                "{} registers a route ({needle}) outside the route table",
                file.display()
            );
        }
    }
}
