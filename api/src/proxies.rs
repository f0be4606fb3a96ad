//! Which peers are proxies whose `X-Forwarded-For` is believed, and the client's address
//! behind them (for the login throttle, sessions and the activity log).

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// Proxies whose `X-Forwarded-For` is believed (`TT_TRUSTED_PROXIES`, CIDRs).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Whether `addr` is one of the trusted proxies (never a throttling subject itself).
    pub(crate) fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client's address: the socket peer, unless the peer is a trusted proxy; then the
    /// nearest address in `X-Forwarded-For` that is not a trusted proxy. Addresses a client
    /// wrote itself sit to the left of that and are never believed.
    pub(crate) fn client_addr(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        Some(forwarded.into_iter().rev().find(|a| !self.trusts(*a)).unwrap_or(peer))
    }
}

impl std::str::FromStr for TrustedProxies {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{p}` is not an address or CIDR"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxies: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.2.3".parse().unwrap());
        // From the proxy: the nearest untrusted hop, not what the client claimed first.
        assert_eq!(
            proxies.client_addr(Some("10.9.9.9".parse().unwrap()), &headers),
            Some("203.0.113.7".parse().unwrap())
        );
        // Straight from a client: its own forged header is ignored.
        assert_eq!(
            proxies.client_addr(Some("198.51.100.4".parse().unwrap()), &headers),
            Some("198.51.100.4".parse().unwrap())
        );
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
    }
}
