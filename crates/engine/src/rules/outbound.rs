//! What rules may send out of the plant: webhook calls to the hosts the server allows
//! (`--webhook-allow`), and e-mail through the SMTP relay it was given (`--smtp-url`, `--smtp-from`).
//! Without a relay an e-mail action is the rule's error, shown with it.

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Which webhook URLs rules may call.
pub type WebhookAllow = std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// An SMTP relay (plain SMTP, as an internal relay speaks it; port 25 by default).
#[derive(Debug, Clone)]
pub struct Smtp {
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
    from: Mailbox,
}

impl Smtp {
    /// The relay of `url` (`smtp://[user:password@]host[:port]`) sending as `from`.
    pub fn parse(url: &str, from: &str) -> Result<Smtp, String> {
        let rest = url.strip_prefix("smtp://").ok_or_else(|| {
            format!("--smtp-url: smtp://[user:password@]host[:port], got '{url}'")
        })?;
        let (creds, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("--smtp-url: a port number, got '{p}'"))?,
            ),
            None => (hostport.trim_end_matches('/'), 25),
        };
        if host.is_empty() {
            return Err("--smtp-url: a host".into());
        }
        let credentials = creds.map(|c| {
            let (u, p) = c.split_once(':').unwrap_or((c, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(u), decode(p))
        });
        let from = from.parse::<Mailbox>().map_err(|e| {
            format!("--smtp-from: an address such as 'Suyuan <qa@plant.example>' ({e})")
        })?;
        Ok(Smtp {
            host: host.to_string(),
            port,
            credentials,
            from,
        })
    }

    /// Sends `body` with `subject` to the comma-separated addresses `to`.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let email = self
            .builder(to, subject)?
            .body(body.to_string())
            .map_err(|e| format!("the message: {e}"))?;
        self.deliver(email).await
    }

    /// Sends `body` with a file attached (`name`, its MIME type, its bytes) — a scheduled report.
    pub async fn send_file(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        file: (&str, &str, Vec<u8>),
    ) -> Result<(), String> {
        use lettre::message::{Attachment, MultiPart, SinglePart, header::ContentType};
        let (name, mime, bytes) = file;
        let kind = ContentType::parse(mime).map_err(|e| format!("the attachment's type: {e}"))?;
        let email = self
            .builder(to, subject)?
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body.to_string()))
                    .singlepart(Attachment::new(name.to_string()).body(bytes, kind)),
            )
            .map_err(|e| format!("the message: {e}"))?;
        self.deliver(email).await
    }

    fn builder(&self, to: &str, subject: &str) -> Result<lettre::message::MessageBuilder, String> {
        let mut m = Message::builder().from(self.from.clone()).subject(subject);
        for a in to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            m = m.to(a
                .parse::<Mailbox>()
                .map_err(|e| format!("to: '{a}' is not an e-mail address ({e})"))?);
        }
        Ok(m)
    }

    async fn deliver(&self, email: Message) -> Result<(), String> {
        let mut t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        if let Some((u, p)) = &self.credentials {
            t = t.credentials(Credentials::new(u.clone(), p.clone()));
        }
        t.build()
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP {}:{}: {e}", self.host, self.port))
    }
}

/// Where rules may send: the webhooks allowed, and the SMTP relay if one is configured.
#[derive(Clone)]
pub struct Outbound {
    /// Which webhook URLs may be called.
    pub webhooks: WebhookAllow,
    /// The e-mail relay.
    pub smtp: Option<Smtp>,
}

impl Default for Outbound {
    /// Nothing goes out: no webhook, no e-mail.
    fn default() -> Outbound {
        Outbound {
            webhooks: std::sync::Arc::new(|_: &str| false),
            smtp: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Smtp;

    #[test]
    fn relay_urls_read_with_located_errors() {
        let s = Smtp::parse(
            "smtp://qa%40plant:s3cret@mail.plant.example:2525",
            "Suyuan <qa@plant.example>",
        )
        .expect("parses");
        assert_eq!((s.host.as_str(), s.port), ("mail.plant.example", 2525));
        assert_eq!(s.credentials, Some(("qa@plant".into(), "s3cret".into())));
        assert_eq!(
            Smtp::parse("smtp://relay", "qa@plant.example")
                .expect("default port")
                .port,
            25
        );
        assert!(
            Smtp::parse("http://relay", "qa@plant.example")
                .expect_err("refused")
                .contains("--smtp-url")
        );
        assert!(
            Smtp::parse("smtp://relay", "not an address")
                .expect_err("refused")
                .contains("--smtp-from")
        );
    }
}
