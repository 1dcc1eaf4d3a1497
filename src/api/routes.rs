//! The route table: every route the API serves, with the access it declares. [`super::server`]
//! builds the app from this table alone, and an entry cannot be written without an
//! [`Access`], so a route with no declared access cannot be served. Role routes pass through
//! [`enforce`] before anything reads their body; the partner callbacks and Odoo's webhook check
//! their own signature or secret.
//!
//! | method | path | access |
//! |---|---|---|
//! | GET | `/healthz`, `/readyz` | public |
//! | POST | `/v1/ingest/odoo` | Odoo's webhook secret |
//! | POST | `/v1/partners/{name}/callbacks` | the partner's signature over time and body |
//! | POST | `/v1/shipments/{id}/screening/decision` | `compliance_officer` |
//! | POST | `/v1/shipments/{id}/screening/override` | `compliance_officer` |
//! | POST | `/v1/shipments/{id}/screening/override/approve` | `compliance_officer` |
//! | POST | `/v1/shipments/{id}/screening/override/reject` | `compliance_officer` |
//! | POST | `/v1/shipments/{id}/exceptions/{exception}/resolve` | `operator` |
//! | POST | `/v1/shipments/{id}/bookings` | `integrator` |
//! | POST | `/v1/shipments` | `integrator` |
//! | GET | `/v1/shipments/{id}` | `viewer` |

use std::future::{Ready, ready};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{
    FromRequest, Handler, HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError, guard,
    web,
};

use super::problem::Problem;
use super::{actions, bookings, callbacks, health, ingest, shipments};
use crate::auth::{Access, Gate, Principal, Role};

type MakeRoute = Arc<dyn Fn() -> actix_web::Route + Send + Sync>;

/// One route: method, path, declared access and handler.
#[derive(Clone)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path pattern, in actix's syntax.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    make: MakeRoute,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl Route {
    fn new<F, Args>(method: Method, path: &'static str, access: Access, handler: F) -> Self
    where
        F: Handler<Args> + Send + Sync,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        Self {
            method,
            path,
            access,
            make: Arc::new(move || web::route().to(handler.clone())),
        }
    }
}

/// Every route of the API. Longer paths come first: `/v1/shipments/{id:.+}` would take the
/// action routes' paths too.
pub fn table() -> Vec<Route> {
    let role = Access::Role;
    vec![
        Route::new(Method::GET, "/healthz", Access::Public, health::healthz),
        Route::new(Method::GET, "/readyz", Access::Public, health::readyz),
        Route::new(
            Method::POST,
            "/v1/ingest/odoo",
            Access::WebhookSecret,
            ingest::odoo,
        ),
        Route::new(
            Method::POST,
            "/v1/partners/{name}/callbacks",
            Access::PartnerSignature,
            callbacks::receive,
        ),
        Route::new(
            Method::POST,
            "/v1/shipments/{id:.+}/screening/decision",
            role(Role::ComplianceOfficer),
            actions::decision,
        ),
        Route::new(
            Method::POST,
            "/v1/shipments/{id:.+}/screening/override/approve",
            role(Role::ComplianceOfficer),
            actions::approve_override,
        ),
        Route::new(
            Method::POST,
            "/v1/shipments/{id:.+}/screening/override/reject",
            role(Role::ComplianceOfficer),
            actions::reject_override,
        ),
        Route::new(
            Method::POST,
            "/v1/shipments/{id:.+}/screening/override",
            role(Role::ComplianceOfficer),
            actions::override_block,
        ),
        Route::new(
            Method::POST,
            "/v1/shipments/{id:.+}/exceptions/{exception}/resolve",
            role(Role::Operator),
            actions::resolve,
        ),
        Route::new(
            Method::POST,
            "/v1/shipments/{id:.+}/bookings",
            role(Role::Integrator),
            bookings::record,
        ),
        Route::new(
            Method::POST,
            "/v1/shipments",
            role(Role::Integrator),
            shipments::submit,
        ),
        Route::new(
            Method::GET,
            "/v1/shipments/{id:.+}",
            role(Role::Viewer),
            shipments::show,
        ),
    ]
}

/// Register every route of `table`, each behind the check of its access.
pub fn configure(cfg: &mut web::ServiceConfig, table: &[Route], gate: &Gate) {
    for route in table {
        let (access, gate) = (route.access, gate.clone());
        cfg.service(
            web::resource(route.path)
                .guard(guard::Method(route.method.clone()))
                .wrap(from_fn(
                    move |request: ServiceRequest, next: Next<BoxBody>| {
                        enforce(access, gate.clone(), request, next)
                    },
                ))
                .route((route.make)()),
        );
    }
}

/// Answer every path no route serves: 404, as a problem.
pub async fn unknown(request: HttpRequest) -> Result<HttpResponse, Problem> {
    Err(Problem::not_found(format!(
        "no route {} {}",
        request.method(),
        request.path()
    )))
}

/// The access check of one route: role routes need a token holding the role (with the rate
/// limits), and hand the [`Principal`] to the handler; the other routes authenticate their
/// callers themselves.
async fn enforce(
    access: Access,
    gate: Gate,
    request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let role = match access {
        Access::Role(role) => role,
        Access::Public | Access::PartnerSignature | Access::WebhookSecret => {
            return next.call(request).await;
        }
    };
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let source = request
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip());
    match gate.admit(role, authorization, source).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.call(request).await
        }
        Err(refusal) => {
            let response = Problem::refused(&refusal).error_response();
            Ok(request.into_response(response))
        }
    }
}

/// The authenticated caller of a role route; a handler that takes it cannot run without one.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<Principal>()
                .cloned()
                .map(Caller)
                .ok_or_else(|| Problem::unauthorized("this route needs an authenticated caller")),
        )
    }
}

#[cfg(test)]
mod tests;
