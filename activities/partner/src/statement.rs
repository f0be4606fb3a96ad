//! Settlement statements as CSV: one line per settled period, amounts in rupees with two
//! decimals. Every field is a code, a date or a number, so no cell can be read as a formula.

use crate::store::SettlementRow;
use std::fmt::Write;

pub const HEADER: &str = "partner,period_start,period_end_exclusive,bookings,refunds,collected_inr,refunded_inr,\
commission_rate_percent,commission_inr,tds_inr,payout_inr,status,settled_at,adjustment_inr,payout_reference";

fn rupees(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let abs = paise.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The statement of `partner_code`'s settlements, in the order given.
pub fn csv(partner_code: &str, rows: &[SettlementRow]) -> String {
    let mut out = String::with_capacity(HEADER.len() + 1 + rows.len() * 128);
    out.push_str(HEADER);
    out.push_str("\r\n");
    for r in rows {
        let _ = write!(
            out,
            "{partner_code},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
            r.period_start,
            r.period_end,
            r.bookings_count,
            r.refunds_count,
            rupees(r.collected_paise),
            rupees(r.refunded_paise),
            rupees(i64::from(r.commission_bp)),
            rupees(r.commission_paise),
            rupees(r.tds_paise),
            rupees(r.payout_paise),
            r.status.as_str(),
            r.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            rupees(r.adjustment_paise),
            // The gateway's payout id: letters, digits and `_` only.
            r.payout_id.as_deref().unwrap_or_default(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_rupees_with_two_decimals_and_lines_end_in_crlf() {
        let row = SettlementRow {
            partner_settlement_id: uuid::Uuid::nil(),
            partner_id: uuid::Uuid::nil(),
            period_start: "2026-01-05".parse().unwrap(),
            period_end: "2026-01-12".parse().unwrap(),
            bookings_count: 2,
            refunds_count: 1,
            commission_bp: 1_250,
            collected_paise: 2_835_005,
            refunded_paise: 945_000,
            commission_paise: -5,
            tds_paise: 0,
            payout_paise: -5,
            currency: "INR".into(),
            status: crate::store::SettlementStatus::Computed,
            created_at: "2026-01-12T01:00:00Z".parse().unwrap(),
            adjustment_paise: 0,
            adjustment_reason: None,
            changed_by: None,
            approved_by: None,
            approved_at: None,
            payout_id: None,
            payout_utr: None,
            paid_at: None,
            payout_attempts: 0,
            payout_failure: None,
        };
        let text = csv("agartala-travels", &[row]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(
            lines[1],
            "agartala-travels,2026-01-05,2026-01-12,2,1,28350.05,9450.00,12.50,-0.05,0.00,-0.05,computed,2026-01-12T01:00:00Z,0.00,"
        );
        assert_eq!(lines[2], "");
        assert_eq!(lines[0].split(',').count(), lines[1].split(',').count());
    }
}
