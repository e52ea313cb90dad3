//! Streamed answers: Server-Sent Events from POST /chat/query, and the
//! WebSocket at /chat/stream opened with a bearer header, with the session
//! token offered as a subprotocol (as a browser must), or with a ticket.

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::chat::answers::{use_questions, with_trades};
use crate::support::{Kind, TestApp, TestResult};

const TRADEBOOK: &str = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
INFY,INE009A01021,2024-01-02,NSE,EQ,EQ,buy,false,10,1400,1001,2001,2024-01-02T10:00:00
TCS,INE467B01029,2025-01-10,NSE,EQ,EQ,buy,false,20,3500,1004,2004,2025-01-10T10:00:00
";

/// `(event, data)` pairs of an SSE body.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event:") {
                    name = n.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            (!name.is_empty()).then(|| (name, serde_json::from_str(&data).unwrap_or(Value::Null)))
        })
        .collect()
}

async fn server_sent_events(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let res = app
        .client
        .post(app.url("/chat/query"))
        .bearer_auth(&asha)
        .header("accept", "text/event-stream")
        .json(&json!({ "message": "show my holdings" }))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()?
            .starts_with("text/event-stream")
    );
    let all = events(&res.text().await?);
    let (last, pieces) = all
        .split_last()
        .ok_or_else(|| anyhow::anyhow!("no events"))?;
    assert!(
        pieces.len() >= 2 && pieces.iter().all(|(name, _)| name == "delta"),
        "{all:?}"
    );
    let text: String = pieces
        .iter()
        .filter_map(|(_, d)| d["content"].as_str())
        .collect();
    assert_eq!(last.0, "done");
    assert_eq!(last.1["type"], "done");
    assert_eq!(
        last.1["answer"].as_str(),
        Some(text.as_str()),
        "the pieces make the answer"
    );
    assert!(text.contains("TCS") && text.contains("INFY"));
    assert_eq!(last.1["usage"]["used"], 1);

    // Refusals come as plain errors before any stream starts.
    let empty = app
        .client
        .post(app.url("/chat/query"))
        .bearer_auth(&asha)
        .header("accept", "text/event-stream")
        .json(&json!({ "message": "" }))
        .send()
        .await?;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    app.stop().await
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(
    app: &TestApp,
    query: &str,
    headers: &[(&str, String)],
) -> anyhow::Result<Result<(Socket, Option<String>), u16>> {
    let url = format!("ws://{}/chat/stream{query}", app.addr);
    let mut req = url.into_client_request()?;
    for (name, value) in headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())?;
        req.headers_mut().insert(name, value.parse()?);
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, res)) => {
            let protocol = res
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            Ok(Ok((socket, protocol)))
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Ok(Err(res.status().as_u16())),
        Err(err) => Err(err.into()),
    }
}

/// Sends a question and reads pieces until `done` or `error`.
async fn converse(socket: &mut Socket, question: Value) -> anyhow::Result<Vec<Value>> {
    socket
        .send(Message::Text(question.to_string().into()))
        .await?;
    let mut pieces = Vec::new();
    while let Some(message) = socket.next().await {
        if let Message::Text(text) = message? {
            let piece: Value = serde_json::from_str(&text)?;
            let end = piece["type"] != "delta";
            pieces.push(piece);
            if end {
                break;
            }
        }
    }
    Ok(pieces)
}

async fn websocket_streams(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;

    // A bearer header, as servers and apps send it.
    let Ok((mut socket, _)) =
        open(&app, "", &[("authorization", format!("Bearer {asha}"))]).await?
    else {
        anyhow::bail!("the bearer header was refused");
    };
    let pieces = converse(
        &mut socket,
        json!({ "message": "what is my portfolio worth?" }),
    )
    .await?;
    let done = pieces.last().cloned().unwrap_or_default();
    assert_eq!(done["type"], "done", "{pieces:?}");
    let text: String = pieces
        .iter()
        .filter_map(|p| p["content"].as_str())
        .collect();
    assert_eq!(done["answer"].as_str(), Some(text.as_str()));
    let conversation = done["conversationId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The same connection takes the next question, in the same conversation.
    let next = converse(
        &mut socket,
        json!({ "message": "and my p&l?", "conversationId": conversation }),
    )
    .await?;
    assert_eq!(
        next.last().map(|p| p["conversationId"].clone()),
        Some(json!(conversation))
    );
    let garbage = converse(&mut socket, json!({ "question": "?" })).await?;
    assert_eq!(
        (garbage[0]["type"].as_str(), garbage[0]["code"].as_str()),
        (Some("error"), Some("invalid_argument"))
    );
    socket.close(None).await?;

    // The session token offered as a subprotocol, as a browser does.
    let Ok((mut socket, protocol)) = open(
        &app,
        "",
        &[("sec-websocket-protocol", format!("kitemate, {asha}"))],
    )
    .await?
    else {
        anyhow::bail!("the subprotocol token was refused");
    };
    assert_eq!(
        protocol.as_deref(),
        Some("kitemate"),
        "the token is never echoed"
    );
    let pieces = converse(&mut socket, json!({ "message": "how many TCS do I have" })).await?;
    assert!(
        pieces
            .last()
            .and_then(|p| p["answer"].as_str())
            .is_some_and(|a| a.contains("20 shares"))
    );
    socket.close(None).await?;

    // A ticket, once.
    let ticket = app
        .call(Method::POST, "/chat/stream/ticket", None, Some(&asha))
        .await?
        .json();
    let ticket = ticket["ticket"].as_str().unwrap_or_default().to_string();
    let Ok((mut socket, _)) = open(&app, &format!("?ticket={ticket}"), &[]).await? else {
        anyhow::bail!("the ticket was refused");
    };
    let pieces = converse(&mut socket, json!({ "message": "allocation by sector" })).await?;
    assert_eq!(
        pieces.last().map(|p| p["type"].clone()),
        Some(json!("done"))
    );
    socket.close(None).await?;
    assert!(
        matches!(
            open(&app, &format!("?ticket={ticket}"), &[]).await?,
            Err(401)
        ),
        "a ticket works once"
    );

    // Nobody else gets in.
    assert!(matches!(open(&app, "", &[]).await?, Err(401)));
    assert!(matches!(
        open(&app, "?ticket=made-up", &[]).await?,
        Err(401)
    ));
    assert!(matches!(
        open(&app, "", &[("authorization", "Bearer kms_nope".into())]).await?,
        Err(401)
    ));
    assert_eq!(app.get("/chat/usage", Some(&asha)).await?.json()["used"], 4);
    app.stop().await
}

/// When the month's questions are used up, the stream says so in its
/// error piece, naming when they start again.
async fn a_stream_refuses_past_the_allowance(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    use_questions(&app, &asha, kitemate::chat::FREE_QUESTIONS).await?;
    let Ok((mut socket, _)) =
        open(&app, "", &[("authorization", format!("Bearer {asha}"))]).await?
    else {
        anyhow::bail!("refused");
    };
    let pieces = converse(&mut socket, json!({ "message": "portfolio value" })).await?;
    assert_eq!(pieces.len(), 1);
    assert_eq!(pieces[0]["code"], "resource_exhausted");
    assert!(
        pieces[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("start again on")
    );
    app.stop().await
}

/// Reads until the server closes: the close code, if it sent one.
async fn closed_with(socket: &mut Socket) -> anyhow::Result<Option<u16>> {
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(frame)) => return Some(frame.map(|f| u16::from(f.code))),
                Ok(_) => {}
                Err(_) => return Some(None),
            }
        }
        Some(None)
    })
    .await?;
    Ok(read.flatten())
}

/// The review's probes: after a logout the socket still answered, and a
/// 3 MiB message was read and parsed. Now the session is checked before
/// every question, large messages close the socket with 1009, and a
/// socket that says nothing is closed.
async fn a_socket_holds_no_authority_of_its_own(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| c.chat.socket_idle_secs = 1).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let ticket = app
        .call(Method::POST, "/chat/stream/ticket", None, Some(&asha))
        .await?
        .json()["ticket"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for how in ["bearer", "ticket"] {
        let opened = match how {
            "bearer" => open(&app, "", &[("authorization", format!("Bearer {asha}"))]).await?,
            _ => open(&app, &format!("?ticket={ticket}"), &[]).await?,
        };
        let Ok((mut socket, _)) = opened else {
            anyhow::bail!("{how} refused");
        };
        let first = converse(&mut socket, json!({ "message": "how many TCS do I have" })).await?;
        assert_eq!(
            first.last().map(|p| p["type"].clone()),
            Some(json!("done")),
            "{how}"
        );
        if how == "bearer" {
            // Too large: closed with 1009, never parsed.
            let huge = json!({ "message": "x".repeat(3 << 20) });
            let _ = socket.send(Message::Text(huge.to_string().into())).await;
            assert_eq!(closed_with(&mut socket).await?, Some(1009), "{how}");
            // Silent: closed once idle.
            let Ok((mut idle, _)) =
                open(&app, "", &[("authorization", format!("Bearer {asha}"))]).await?
            else {
                anyhow::bail!("refused");
            };
            assert_eq!(closed_with(&mut idle).await?, Some(1000));
            continue;
        }
        // Signed out while the socket is open: the next question is refused
        // and the socket closed.
        let logout = app
            .call(Method::POST, "/auth/logout", None, Some(&asha))
            .await?;
        assert!(logout.status.is_success(), "{logout:?}");
        let refused = converse(&mut socket, json!({ "message": "how many TCS do I have" })).await?;
        assert_eq!(
            (refused[0]["type"].as_str(), refused[0]["code"].as_str()),
            (Some("error"), Some("unauthenticated")),
            "{refused:?}"
        );
        assert_eq!(closed_with(&mut socket).await?, Some(1008));
    }
    app.stop().await
}

crate::both_backends!(
    server_sent_events,
    websocket_streams,
    a_stream_refuses_past_the_allowance,
    a_socket_holds_no_authority_of_its_own,
);
