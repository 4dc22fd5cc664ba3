//! Raw printing: ZPL (or any printer language) sent to a network printer's TCP port 9100.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::LabelError;

/// Sends `data` to `addr` (`host:port`, port 9100 when omitted) and waits until the printer took it all.
pub fn send_raw(addr: &str, data: &[u8], timeout: Duration) -> Result<(), LabelError> {
    let target = if addr.contains(':') {
        addr.to_string()
    } else {
        format!("{addr}:9100")
    };
    let err = |e: std::io::Error| LabelError::Printer(format!("{target}: {e}"));
    let sock = target
        .to_socket_addrs()
        .map_err(err)?
        .next()
        .ok_or_else(|| LabelError::Printer(format!("{target}: no address")))?;
    let mut stream = TcpStream::connect_timeout(&sock, timeout).map_err(err)?;
    stream.set_write_timeout(Some(timeout)).map_err(err)?;
    stream.write_all(data).map_err(err)?;
    stream.flush().map_err(err)?;
    stream.shutdown(std::net::Shutdown::Write).map_err(err)?;
    Ok(())
}
