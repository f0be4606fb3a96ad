//! Rows streamed into PostgreSQL with `COPY … FROM STDIN` (text format): the generator
//! fills a buffer per table and hands full buffers to a task that owns that table's COPY,
//! so no table is ever held in memory and the database parses while the next rows are made.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use sqlx::PgPool;
use sqlx::postgres::PgPoolCopyExt;
use std::io::Write;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const FLUSH_AT: usize = 256 * 1024;

/// One table's rows on their way to its COPY.
pub(crate) struct Sink {
    pub(crate) table: &'static str,
    buf: Vec<u8>,
    first: bool,
    rows: u64,
    tx: mpsc::Sender<Vec<u8>>,
    task: JoinHandle<Result<u64, sqlx::Error>>,
}

impl Sink {
    /// Starts `COPY table (columns) FROM STDIN` on its own connection of `pool`.
    pub(crate) fn open(rt: &Handle, pool: &PgPool, table: &'static str, columns: &str) -> Sink {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(4);
        let statement = format!("COPY {table} ({columns}) FROM STDIN");
        let pool = pool.clone();
        let task = rt.spawn(async move {
            let mut copy = pool.copy_in_raw(&statement).await?;
            while let Some(chunk) = rx.recv().await {
                if let Err(e) = copy.send(chunk).await {
                    let _ = copy.abort(e.to_string()).await;
                    return Err(e);
                }
            }
            copy.finish().await
        });
        Sink { table, buf: Vec::with_capacity(FLUSH_AT + 4096), first: true, rows: 0, tx, task }
    }

    fn sep(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.buf.push(b'\t');
        }
    }

    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    pub(crate) fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    pub(crate) fn text(&mut self, v: &str) -> &mut Self {
        self.sep();
        for &b in v.as_bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        self
    }

    pub(crate) fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// Paise as NUMERIC rupees: 123456 → `1234.56`.
    pub(crate) fn money(&mut self, paise: i64) -> &mut Self {
        self.sep();
        let sign = if paise < 0 { "-" } else { "" };
        let a = paise.unsigned_abs();
        let _ = write!(self.buf, "{sign}{}.{:02}", a / 100, a % 100);
        self
    }

    pub(crate) fn opt_money(&mut self, paise: Option<i64>) -> &mut Self {
        match paise {
            Some(p) => self.money(p),
            None => self.null(),
        }
    }

    pub(crate) fn date(&mut self, d: NaiveDate) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
        self
    }

    pub(crate) fn ts(&mut self, t: NaiveDateTime) -> &mut Self {
        self.sep();
        let _ = write!(
            self.buf,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        self
    }

    pub(crate) fn opt_ts(&mut self, t: Option<NaiveDateTime>) -> &mut Self {
        match t {
            Some(t) => self.ts(t),
            None => self.null(),
        }
    }

    /// Ends the row; sends the buffer on once it is full.
    pub(crate) fn end(&mut self) -> anyhow::Result<()> {
        self.buf.push(b'\n');
        self.first = true;
        self.rows += 1;
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(FLUSH_AT + 4096));
        self.tx.blocking_send(chunk).map_err(|_| anyhow::anyhow!("the COPY into {} stopped early", self.table))
    }

    /// Sends the last rows and waits for the COPY to finish; answers the rows written.
    pub(crate) fn finish(mut self, rt: &Handle) -> anyhow::Result<(&'static str, u64)> {
        let sent = self.flush();
        let Sink { table, rows, tx, task, .. } = self;
        drop(tx);
        let copied = rt.block_on(task)?.map_err(|e| anyhow::anyhow!("COPY into {table}: {e}"))?;
        sent?;
        anyhow::ensure!(copied == rows, "COPY into {table} wrote {copied} rows of {rows}");
        Ok((table, rows))
    }
}
