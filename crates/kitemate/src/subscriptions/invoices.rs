//! Tax invoices: one per successful charge, made in the transaction that
//! records the charge, numbered from a per-financial-year counter in that
//! same transaction (so numbers have no gaps), with the seller and the
//! customer as they were that day.

use chrono::{DateTime, Utc};
use platform::ApiError;
use platform::db::Tx;

use super::deliveries::Charge;
use super::gst;
use super::invoice_pdf;
use super::model::{BillingDetails, Invoice, InvoicePage, PaidPlan, Provider, Seller};
use super::service::{SubscriptionService, details_model};
use super::store::{self, InvoiceRow, SubRow};
use crate::auth::AuthData;

impl SubscriptionService {
    pub(super) async fn issue_invoice(
        &self,
        tx: &mut Tx,
        provider: Provider,
        row: &SubRow,
        charge: &Charge,
    ) -> Result<String, ApiError> {
        let seller = self.seller();
        let customer = store::details_in(tx, &row.user_id)
            .await?
            .map(details_model);
        // With no address given, the place of supply is the supplier's.
        let same_state = customer
            .as_ref()
            .is_none_or(|c| c.state_code == seller.state_code);
        let tax = gst::split(charge.amount, self.config().seller.gst_percent, same_state);
        // Issued now, numbered now: dates follow numbers. The id is made
        // after the number (whose counter row is held to commit), so ids
        // sort as numbers do.
        let issued = self.inner.clock.now();
        let fy = gst::financial_year(issued);
        let sequence = store::next_invoice_number(tx, &fy).await?;
        let invoice = InvoiceRow {
            id: uuid::Uuid::now_v7().to_string(),
            number: gst::invoice_number(&fy, sequence),
            user_id: row.user_id.clone(),
            provider: provider.as_str().into(),
            payment_id: charge.id.clone(),
            plan: row.plan.clone(),
            issued_at: issued.timestamp(),
            period_start: charge.period_start,
            period_end: charge.period_end,
            total: charge.amount,
            taxable: tax.taxable,
            cgst: tax.cgst,
            sgst: tax.sgst,
            igst: tax.igst,
            seller: serde_json::to_string(&seller).map_err(ApiError::internal)?,
            customer: serde_json::to_string(&customer).map_err(ApiError::internal)?,
        };
        store::add_invoice(tx, &invoice).await?;
        tracing::info!(number = %invoice.number, user_id = %row.user_id, "invoice issued");
        Ok(invoice.number)
    }

    fn seller(&self) -> Seller {
        let s = &self.config().seller;
        Seller {
            name: s.name.clone(),
            address: s.address.clone(),
            state_code: s.state_code.clone(),
            gstin: (!s.gstin.is_empty()).then(|| s.gstin.clone()),
            sac: s.sac.clone(),
        }
    }

    /// A page of the caller's invoices, newest first.
    pub async fn invoices(
        &self,
        caller: &AuthData,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<InvoicePage, ApiError> {
        let (rows, more) = store::invoices(&self.inner.db, &caller.user.id, cursor, limit).await?;
        let next_cursor = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
        Ok(InvoicePage {
            invoices: rows.into_iter().map(|r| self.invoice_model(r)).collect(),
            next_cursor,
        })
    }

    /// One of the caller's invoices; another's is "not found".
    pub async fn invoice(&self, caller: &AuthData, id: &str) -> Result<Invoice, ApiError> {
        store::invoice(&self.inner.db, &caller.user.id, id)
            .await?
            .map(|r| self.invoice_model(r))
            .ok_or_else(|| ApiError::not_found("invoice not found"))
    }

    /// The invoice as a PDF to print and file.
    pub async fn invoice_pdf(
        &self,
        caller: &AuthData,
        id: &str,
    ) -> Result<(String, Vec<u8>), ApiError> {
        let invoice = self.invoice(caller, id).await?;
        let file = format!("{}.pdf", invoice.number.replace('/', "-"));
        Ok((file, invoice_pdf::render(&invoice)))
    }

    fn invoice_model(&self, row: InvoiceRow) -> Invoice {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default();
        let seller: Seller = serde_json::from_str(&row.seller).unwrap_or_else(|_| self.seller());
        let customer: Option<BillingDetails> = serde_json::from_str(&row.customer).unwrap_or(None);
        let gst_percent = if row.taxable > 0 {
            // As issued: the rate that gives these lines (18 % unless set otherwise).
            u32::try_from(((row.total - row.taxable) * 100 + row.taxable / 2) / row.taxable)
                .unwrap_or(0)
        } else {
            self.config().seller.gst_percent
        };
        Invoice {
            pdf_url: format!("/subscriptions/invoices/{}/invoice.pdf", row.id),
            id: row.id,
            number: row.number,
            issued_at: at(row.issued_at),
            plan: PaidPlan::parse(&row.plan).unwrap_or(PaidPlan::ProMonthly),
            provider: Provider::parse(&row.provider).unwrap_or(Provider::Razorpay),
            period_start: row.period_start.map(at),
            period_end: row.period_end.map(at),
            total_paise: row.total,
            taxable_paise: row.taxable,
            cgst_paise: row.cgst,
            sgst_paise: row.sgst,
            igst_paise: row.igst,
            gst_percent,
            seller,
            customer,
        }
    }
}
