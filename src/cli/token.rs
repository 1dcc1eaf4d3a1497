//! `tradehub token create|list|revoke|rotate`: API tokens in the hub's Redis, read through the
//! same configuration and `REDIS_URL` as `serve`, hashed with the pepper from the variable
//! `auth.pepper_env` names. A token's secret is printed once, when it is created or rotated.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;
use tradehub_actors::clock::SystemClock;

use super::EXIT_USAGE;
use super::ops::{Connection, connect, fail};
use crate::auth::{ApiToken, Pepper, Role, TokenError, Tokens};

/// API tokens.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    what: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it, once.
    Create {
        /// A role it holds (repeat for several): viewer, operator, compliance_officer,
        /// integrator, admin. No role implies another.
        #[arg(long = "role", required = true)]
        roles: Vec<Role>,
        /// Who or what holds it; recorded as the actor of what it does.
        #[arg(long, default_value = "")]
        label: String,
        /// It stops working after this long (e.g. `30d`, `12h`).
        #[arg(long, value_parser = humantime_serde::re::humantime::parse_duration)]
        expires: Option<Duration>,
    },
    /// Every token, without secrets.
    List,
    /// Revoke a token; it fails within `auth.cache_ttl`.
    Revoke {
        /// The token's id (the part after `th_`).
        id: String,
    },
    /// Give a token a new secret (same id, roles and label) and print it, once.
    Rotate {
        /// The token's id.
        id: String,
    },
}

/// `tradehub token …`.
pub fn token(args: TokenArgs) -> ExitCode {
    let (config, mailbox, runtime) = match connect(&args.connection) {
        Ok(connected) => connected,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    let pepper = match Pepper::from_env(&config.auth.pepper_env) {
        Ok(pepper) => pepper,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    let tokens = Tokens::new(&mailbox, pepper, Arc::new(SystemClock));
    let json = args.connection.json;
    let done = runtime.block_on(async {
        match args.what {
            TokenCommand::Create {
                roles,
                label,
                expires,
            } => {
                let (info, token) = tokens
                    .create(roles.into_iter().collect(), &label, expires)
                    .await?;
                if json {
                    println!(
                        "{}",
                        json!({ "token": token.reveal(), "id": info.id, "roles": info.roles, "label": info.label, "expires_ms": info.expires_ms })
                    );
                } else {
                    show_once(&token);
                }
            }
            TokenCommand::List => {
                let list = tokens.list().await?;
                if json {
                    println!("{}", json!({ "tokens": list }));
                } else {
                    for t in &list {
                        let roles: Vec<&str> = t.roles.iter().map(|r| r.as_str()).collect();
                        let state = if t.revoked_ms.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{}  {state}  {}  {:?}  created {}  expires {}  last used {}",
                            t.id,
                            roles.join(","),
                            t.label,
                            t.created_ms,
                            t.expires_ms.map_or("never".to_owned(), |e| e.to_string()),
                            t.last_used_ms.map_or("never".to_owned(), |u| u.to_string()),
                        );
                    }
                }
            }
            TokenCommand::Revoke { id } => {
                tokens.revoke(&id).await?;
                if json {
                    println!("{}", json!({ "revoked": id }));
                } else {
                    println!("revoked {id}");
                }
            }
            TokenCommand::Rotate { id } => {
                let token = tokens.rotate(&id).await?;
                if json {
                    println!("{}", json!({ "token": token.reveal(), "id": id }));
                } else {
                    show_once(&token);
                }
            }
        }
        Ok::<_, TokenError>(())
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(EXIT_USAGE, error),
    }
}

fn show_once(token: &ApiToken) {
    println!("{}", token.reveal());
    eprintln!(
        "token {}: this is the only time its secret is shown; keep it in a secret store",
        token.id()
    );
}
