//! The shared socket-helper module: addresses, ports, durations, resolution and sockets.

pub mod addr;
pub mod async_stream;
pub mod cause;
pub mod datagram;
pub mod dial;
pub mod duration;
pub mod endpoint;
pub mod escape;
pub mod forward;
pub mod listener;
pub mod peer;
pub mod port;
pub mod proxy;
pub mod relay;
pub mod resolve;
pub mod socket;
pub mod socket_state;
pub mod stats;
pub mod stream;
pub mod tls;
pub mod traffic;
pub mod transform;
#[cfg(unix)]
pub mod unix_connect;

pub use addr::{BindSpec, Cidr, Host, HostPort, HostSpec, Target};
pub use duration::{format_duration, parse_duration, parse_timeout};
pub use endpoint::{BindEndpoint, Endpoint};
pub use port::{PortRange, PortSpec, parse_port};
pub use resolve::{Family, ResolveError, resolve};
pub use socket_state::SocketState;
