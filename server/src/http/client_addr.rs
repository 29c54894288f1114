//! The client address of a request, as the rate limits key it: the peer, or, behind the
//! configured `trusted_proxy`, the right-most entry of `X-Forwarded-For`.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::service::limits::Limiters;

/// The address a request comes from (before the rate limits group it into a key).
#[must_use]
pub fn client_addr(req: &HttpRequest, limits: &Limiters) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if Some(peer) == limits.trusted_proxy() {
        // All header lines form one list (RFC 9110 §5.3): a proxy that appends its own
        // line instead of extending the client's must still be the one believed. A line
        // that is not text makes the list unreadable, and then the peer is the key.
        let mut last = None;
        let mut readable = true;
        for line in req.headers().get_all("x-forwarded-for") {
            match line.to_str() {
                Ok(v) => {
                    if let Some(entry) = v.rsplit(',').next() {
                        last = Some(entry.trim().to_owned());
                    }
                }
                Err(_) => readable = false,
            }
        }
        last.filter(|_| readable)
            .and_then(|v| v.parse::<IpAddr>().ok())
            .unwrap_or(peer)
    } else {
        peer
    }
}
