//! The HTTP face of the simulator: `/jsonrpc`, `/json/2/<model>/<method>` and `/web/version`,
//! with Odoo's error envelopes, injected faults and the outgoing automation webhook.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::db::{SimError, python_str_micros};
use super::rpc::{Call, Outcome};
use super::{Fault, SimState};

/// The version the simulator reports.
const VERSION: &str = "19.0";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/jsonrpc", web::post().to(jsonrpc))
        .route("/json/2/{model}/{method}", web::post().to(json2))
        .route("/web/version", web::get().to(version))
        .route("/web/version", web::post().to(version));
}

fn version_info() -> Value {
    json!({
        "server_version": VERSION,
        "server_version_info": [19, 0, 0, "final", 0, ""],
        "server_serie": VERSION,
        "protocol_version": 1,
    })
}

async fn version(state: web::Data<SimState>) -> HttpResponse {
    if let Some(resp) = fault(&state, true).await {
        return resp;
    }
    HttpResponse::Ok().json(json!({"version": VERSION, "version_info": [19, 0, 0, "final", 0, ""]}))
}

/// Apply the next injected fault, if any: some answer in place of the server, a delay before it.
async fn fault(state: &SimState, json2: bool) -> Option<HttpResponse> {
    state
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match state.faults.next()? {
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Fault::BadGateway => Some(
            HttpResponse::BadGateway()
                .content_type("text/html")
                .body("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"),
        ),
        Fault::HtmlError => Some(
            HttpResponse::InternalServerError()
                .content_type("text/html; charset=utf-8")
                .body("<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n"),
        ),
        Fault::BadJson => Some(HttpResponse::Ok().content_type("application/json").body("{\"jsonrpc\": \"2.0\", \"id\": 1, \"result\": [{\"id\": 1, \"name\": \"WH/OUT/0")),
        Fault::RateLimited(after) => Some(
            HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", after.as_secs().to_string()))
                .content_type("text/html")
                .body("<h1>429 Too Many Requests</h1>"),
        ),
        Fault::Error(name, message) => {
            let err = SimError::new(&name, message);
            Some(if json2 { json2_error(&err) } else { HttpResponse::Ok().json(rpc_error(None, &err)) })
        }
    }
}

fn rpc_error(id: Option<&Value>, err: &SimError) -> Value {
    let (code, message) = match err.name.as_str() {
        "odoo.http.SessionExpiredException" => (100, "Odoo Session Expired"),
        _ => (200, "Odoo Server Error"),
    };
    json!({
        "jsonrpc": "2.0",
        "id": id.cloned().unwrap_or(Value::Null),
        "error": {
            "code": code,
            "message": message,
            "data": {
                "name": err.name,
                "debug": format!("Traceback (most recent call last):\n  File \"odoo/http.py\", line 2138, in _serve_db\n{}: {}\n", err.name, err.message),
                "message": err.message,
                "arguments": [err.message],
                "context": {},
            }
        }
    })
}

async fn jsonrpc(state: web::Data<SimState>, body: web::Bytes) -> HttpResponse {
    if let Some(resp) = fault(&state, false).await {
        return resp;
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return HttpResponse::BadRequest().json(json!({
                "jsonrpc": "2.0", "id": null,
                "error": {"code": -32700, "message": "Parse error", "data": {"name": "werkzeug.exceptions.BadRequest", "message": format!("Invalid JSON data: {e}"), "arguments": [], "context": {}, "debug": ""}}
            }));
        }
    };
    let id = request.get("id");
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let service = params
        .get("service")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let method = params
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let args = params
        .get("args")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let result = match (service, method) {
        ("common", "version") => Ok(version_info()),
        ("common", "login" | "authenticate") => {
            let db = args.first().and_then(Value::as_str).unwrap_or_default();
            let login = args.get(1).and_then(Value::as_str).unwrap_or_default();
            let password = args.get(2).and_then(Value::as_str).unwrap_or_default();
            match state.check_db(db) {
                Ok(()) => Ok(state
                    .authenticate(login, password)
                    .map_or(Value::Bool(false), |uid| json!(uid))),
                Err(e) => Err(e),
            }
        }
        ("object", "execute_kw" | "execute") => object(&state, method, &args).await,
        _ => Err(SimError::new(
            "builtins.NameError",
            format!("{method:?} is not a valid method of service {service:?}"),
        )),
    };
    match result {
        Ok(result) => HttpResponse::Ok().json(
            json!({"jsonrpc": "2.0", "id": id.cloned().unwrap_or(Value::Null), "result": result}),
        ),
        Err(err) => HttpResponse::Ok().json(rpc_error(id, &err)),
    }
}

async fn object(state: &SimState, method: &str, args: &[Value]) -> Result<Value, SimError> {
    let db = args.first().and_then(Value::as_str).unwrap_or_default();
    state.check_db(db)?;
    let uid = args.get(1).and_then(Value::as_u64).unwrap_or_default();
    let password = args.get(2).and_then(Value::as_str).unwrap_or_default();
    if !state.password_ok(uid, password) {
        return Err(SimError::new(
            "odoo.exceptions.AccessDenied",
            "Access Denied".to_owned(),
        ));
    }
    let model = args.get(3).and_then(Value::as_str).unwrap_or_default();
    let name = args.get(4).and_then(Value::as_str).unwrap_or_default();
    let (positional, kwargs) = if method == "execute_kw" {
        (
            args.get(5)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            args.get(6)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        )
    } else {
        (
            args.get(5..).map(<[Value]>::to_vec).unwrap_or_default(),
            Map::new(),
        )
    };
    let call = Call::from_execute_kw(model, name, &positional, kwargs)?;
    run(state, uid, &call)
}

/// Execute and, once the simulated transaction is committed, send the webhooks it triggers.
fn run(state: &SimState, uid: u64, call: &Call) -> Result<Value, SimError> {
    let Outcome { result, changed } = state.execute(uid, call)?;
    state.count_api_change(call);
    for (model, ids) in changed {
        send_webhooks(state, &model, &ids);
    }
    Ok(result)
}

/// Odoo's `_run_action_webhook`: one POST per record, `{"_model", "_id", "_action"}` plus the
/// chosen fields read with `load=None`, 1 s timeout, no retry, errors only logged.
pub fn send_webhooks(state: &SimState, model: &str, ids: &[u64]) {
    let Some(rule) = state.webhook.lock().ok().and_then(|w| w.clone()) else {
        return;
    };
    if rule.model != model {
        return;
    }
    for id in ids {
        let Ok(payload) = state.webhook_payload(&rule, *id) else {
            continue;
        };
        let client = state.hook_client.clone();
        let url = rule.url.clone();
        tokio::spawn(async move {
            let sent = client
                .post(&url)
                .header("Content-Type", "application/json")
                .body(payload)
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if let Err(e) = sent {
                tracing::warn!(url, error = %e, "webhook not delivered (Odoo does not retry)");
            }
        });
    }
}

/// The payload of one webhook call, serialised with sorted keys as Odoo does.
pub fn payload_for(
    record: Map<String, Value>,
    model: &str,
    id: u64,
    action: &str,
    write_date: Option<i64>,
) -> String {
    let mut payload: std::collections::BTreeMap<String, Value> = record.into_iter().collect();
    payload.insert("_model".to_owned(), json!(model));
    payload.insert("_id".to_owned(), json!(id));
    payload.insert("_action".to_owned(), json!(action));
    if let (Some(micros), true) = (write_date, payload.contains_key("write_date")) {
        payload.insert("write_date".to_owned(), json!(python_str_micros(micros)));
    }
    serde_json::to_string(&payload).unwrap_or_default()
}

fn json2_error(err: &SimError) -> HttpResponse {
    let status = match err.name.as_str() {
        "odoo.exceptions.AccessDenied" | "werkzeug.exceptions.Unauthorized" => {
            StatusCode::UNAUTHORIZED
        }
        "odoo.exceptions.AccessError" => StatusCode::FORBIDDEN,
        "odoo.exceptions.MissingError"
        | "builtins.KeyError"
        | "builtins.AttributeError"
        | "werkzeug.exceptions.NotFound" => StatusCode::NOT_FOUND,
        "odoo.exceptions.ValidationError"
        | "odoo.exceptions.UserError"
        | "builtins.ValueError"
        | "builtins.TypeError" => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    HttpResponse::build(status).json(json!({
        "name": err.name,
        "message": err.message,
        "arguments": [err.message],
        "context": {},
        "debug": format!("Traceback (most recent call last):\n{}: {}\n", err.name, err.message),
    }))
}

async fn json2(
    state: web::Data<SimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(resp) = fault(&state, true).await {
        return resp;
    }
    let key = req
        .headers()
        .get("Authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("bearer ")
                .or_else(|| h.strip_prefix("Bearer "))
        })
        .unwrap_or_default();
    let Some(uid) = state.api_key_user(key) else {
        return json2_error(&SimError::new(
            "werkzeug.exceptions.Unauthorized",
            "Invalid apikey".to_owned(),
        ));
    };
    let db = req
        .headers()
        .get("X-Odoo-Database")
        .and_then(|h| h.to_str().ok());
    if let Some(Err(e)) = db.map(|db| state.check_db(db)) {
        return json2_error(&SimError::new("werkzeug.exceptions.NotFound", e.message));
    }
    let params: Map<String, Value> = if body.is_empty() {
        Map::new()
    } else {
        match serde_json::from_slice(&body) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                return json2_error(&SimError::new(
                    "werkzeug.exceptions.BadRequest",
                    format!("expected a JSON object, got {other}"),
                ));
            }
            Err(e) => {
                return json2_error(&SimError::new(
                    "werkzeug.exceptions.BadRequest",
                    format!("Invalid JSON data: {e}"),
                ));
            }
        }
    };
    let (model, method) = path.into_inner();
    let mut params = params;
    let ids = match params.remove("ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_u64).collect(),
        Some(other) => return json2_error(&SimError::value(format!("Invalid ids {other}"))),
    };
    params.remove("context");
    let call = Call {
        model,
        method,
        ids,
        params,
    };
    match run(&state, uid, &call) {
        Ok(result) => HttpResponse::Ok().json(result),
        Err(err) => json2_error(&err),
    }
}
