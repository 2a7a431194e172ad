package doctor

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultProbeTimeout bounds each network step of a probe (resolve,
// connect, greeting, TLS handshake).
const DefaultProbeTimeout = 5 * time.Second

// Network looks at a database or an HTTPS endpoint from where the doctor
// runs, which is where the rotation function runs (same subnets, same
// security group rules): name resolution, TCP reachability and, for a
// MySQL server, its greeting and TLS handshake. It never logs in, so it
// costs no failed login; see [Network.Database] for what the server
// counts.
type Network struct {
	// Resolver resolves host names (nil: net.DefaultResolver).
	Resolver *net.Resolver
	// Timeout bounds each step (0: DefaultProbeTimeout).
	Timeout time.Duration
	// TLSConfig returns the verified TLS configuration for a database
	// host, the one the logins use (mysql.Dialer.TLSConfig). Nil: TLS is
	// not checked.
	TLSConfig func(host string) *tls.Config
}

// Reach is what resolving and connecting to one address showed.
type Reach struct {
	Addr      string   // host:port
	Addresses []string // what the name resolved to
	// Err is the failed step ("resolve", "connect") and its error; ""
	// when connected.
	Err string
}

// OK reports whether a TCP connection was made.
func (r Reach) OK() bool { return r.Err == "" }

// DBProbe is what the database server showed before any login.
type DBProbe struct {
	Reach
	// ServerVersion and AuthPlugin come from the server's greeting (the
	// plugin is the server's default, which the account may override).
	ServerVersion string
	AuthPlugin    string
	// GreetingErr is set when the server answered with an error instead
	// of a greeting (e.g. host blocked, too many connections) or did not
	// answer in time.
	GreetingErr string
	// TLS describes the handshake: "" when not checked.
	TLS string
	// TLSOffered reports whether the server offers TLS at all.
	TLSOffered bool
	// TLSErr is set when TLS is offered and the handshake or the
	// certificate verification failed.
	TLSErr string
}

func (n Network) timeout() time.Duration {
	if n.Timeout > 0 {
		return n.Timeout
	}
	return DefaultProbeTimeout
}

func (n Network) resolver() *net.Resolver {
	if n.Resolver != nil {
		return n.Resolver
	}
	return net.DefaultResolver
}

// reach resolves host and connects to the first address that answers.
func (n Network) reach(ctx context.Context, host string, port int) (Reach, net.Conn) {
	r := Reach{Addr: net.JoinHostPort(host, strconv.Itoa(port))}
	rctx, cancel := context.WithTimeout(ctx, n.timeout())
	defer cancel()
	addrs, err := n.resolver().LookupHost(rctx, host)
	if err != nil {
		r.Err = "resolve: " + err.Error()
		return r, nil
	}
	r.Addresses = addrs
	d := net.Dialer{Timeout: n.timeout()}
	var errs []string
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a, strconv.Itoa(port)))
		if err == nil {
			return r, conn
		}
		errs = append(errs, err.Error())
	}
	r.Err = "connect: " + strings.Join(errs, "; ")
	return r, nil
}

// Endpoint resolves and connects to the host of an endpoint URL (port 443
// for https unless the URL names one); it sends nothing.
func (n Network) Endpoint(ctx context.Context, endpoint string) Reach {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return Reach{Addr: endpoint, Err: "invalid endpoint URL"}
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return Reach{Addr: endpoint, Err: "invalid endpoint port"}
		}
	}
	r, conn := n.reach(ctx, u.Hostname(), port)
	if conn != nil {
		conn.Close()
	}
	return r
}

// Database resolves host, connects to port, reads the server's greeting
// and, when the server offers TLS and n.TLSConfig is set, makes the TLS
// handshake the driver would make (SSLRequest, then the handshake with
// the logins' verified configuration), then hangs up without logging
// in. A connection closed during the handshake is counted by the server
// as an aborted connect (MySQL and MariaDB block a host after
// max_connect_errors of them in a row, default 100, reset by any
// successful login), never as a failed login.
func (n Network) Database(ctx context.Context, host string, port int) DBProbe {
	r, conn := n.reach(ctx, host, port)
	p := DBProbe{Reach: r}
	if conn == nil {
		return p
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(n.timeout()))
	g, err := readGreeting(bufio.NewReader(conn))
	if err != nil {
		p.GreetingErr = err.Error()
		return p
	}
	p.ServerVersion, p.AuthPlugin = g.version, g.plugin
	p.TLSOffered = g.caps&clientSSL != 0
	switch {
	case n.TLSConfig == nil:
		return p
	case !p.TLSOffered:
		p.TLS = "not offered by the server"
		return p
	}
	if _, err := conn.Write(sslRequest()); err != nil {
		p.TLSErr = "send SSLRequest: " + err.Error()
		return p
	}
	tc := tls.Client(conn, n.TLSConfig(host))
	hctx, cancel := context.WithTimeout(ctx, n.timeout())
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		p.TLSErr = err.Error()
		return p
	}
	st := tc.ConnectionState()
	p.TLS = tls.VersionName(st.Version) + ", certificate verified"
	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		p.TLS += fmt.Sprintf(" (subject %q, issuer %q, expires %s)", leaf.Subject.CommonName, leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return p
}

// MySQL protocol capability flags (client/server handshake).
const (
	clientLongPassword     = 0x00000001
	clientProtocol41       = 0x00000200
	clientSSL              = 0x00000800
	clientSecureConnection = 0x00008000
	clientPluginAuth       = 0x00080000
	maxGreeting            = 1 << 12 // a greeting is about 100 bytes
)

type greeting struct {
	version, plugin string
	caps            uint32
}

// readGreeting parses the server's initial handshake packet (protocol
// version 10), or its error packet.
func readGreeting(r io.Reader) (greeting, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return greeting{}, fmt.Errorf("read greeting: %w", err)
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n == 0 || n > maxGreeting {
		return greeting{}, fmt.Errorf("read greeting: packet of %d bytes is not a MySQL greeting", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return greeting{}, fmt.Errorf("read greeting: %w", err)
	}
	if b[0] == 0xff {
		if len(b) < 3 {
			return greeting{}, errors.New("server answered with a truncated error packet")
		}
		return greeting{}, fmt.Errorf("server refused the connection: error %d: %s", binary.LittleEndian.Uint16(b[1:3]), printable(b[3:]))
	}
	if b[0] != 10 {
		return greeting{}, fmt.Errorf("unsupported handshake protocol version %d", b[0])
	}
	rest := b[1:]
	v, rest, ok := cstring(rest)
	if !ok || len(rest) < 4+8+1+2 {
		return greeting{}, errors.New("truncated greeting")
	}
	g := greeting{version: strings.TrimPrefix(v, "5.5.5-")} // MariaDB's replication-compatible prefix
	rest = rest[4+8+1:]
	g.caps = uint32(binary.LittleEndian.Uint16(rest))
	rest = rest[2:]
	if len(rest) < 1+2+2+1+10 {
		return g, nil
	}
	g.caps |= uint32(binary.LittleEndian.Uint16(rest[3:5])) << 16
	authLen := int(rest[5])
	rest = rest[16:]
	if g.caps&clientSecureConnection != 0 {
		skip := max(13, authLen-8)
		if len(rest) < skip {
			return g, nil
		}
		rest = rest[skip:]
	}
	if g.caps&clientPluginAuth != 0 {
		if p, _, ok := cstring(rest); ok {
			g.plugin = p
		} else {
			g.plugin = string(rest)
		}
	}
	return g, nil
}

// sslRequest is the client's SSLRequest packet (sequence 1): capability
// flags asking for TLS, max packet size, character set utf8mb4.
func sslRequest() []byte {
	b := make([]byte, 4+32)
	b[0], b[3] = 32, 1
	binary.LittleEndian.PutUint32(b[4:], clientLongPassword|clientProtocol41|clientSSL|clientSecureConnection|clientPluginAuth)
	binary.LittleEndian.PutUint32(b[8:], 1<<24-1)
	b[12] = 45 // utf8mb4_general_ci
	return b
}

func cstring(b []byte) (string, []byte, bool) {
	i := strings.IndexByte(string(b), 0)
	if i < 0 {
		return "", b, false
	}
	return string(b[:i]), b[i+1:], true
}

// printable keeps a server message to printable ASCII and 200 bytes.
func printable(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if s.Len() >= 200 {
			break
		}
		if c >= 0x20 && c < 0x7f {
			s.WriteByte(c)
		}
	}
	return s.String()
}

// probeCache keeps the network probes of one invocation, per host:port:
// a sweep over many secrets of one database probes it once, and an
// unreachable database costs its probe timeouts once, not per secret.
type probeCache struct {
	mu        sync.Mutex
	databases map[string]DBProbe
	endpoints map[string]Reach
}

type probeCacheKey struct{}

// withProbeCache returns ctx carrying a fresh cache (one per invocation).
func withProbeCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, probeCacheKey{}, &probeCache{databases: map[string]DBProbe{}, endpoints: map[string]Reach{}})
}

// database probes host:port once per invocation (see [withProbeCache]).
func (d *Doctor) database(ctx context.Context, host string, port int) DBProbe {
	c, _ := ctx.Value(probeCacheKey{}).(*probeCache)
	if c == nil {
		return d.net.Database(ctx, host, port)
	}
	key := net.JoinHostPort(host, strconv.Itoa(port))
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.databases[key]; ok {
		return p
	}
	p := d.net.Database(ctx, host, port)
	c.databases[key] = p
	return p
}

// endpointReach probes the endpoint once per invocation.
func (d *Doctor) endpointReach(ctx context.Context, endpoint string) Reach {
	c, _ := ctx.Value(probeCacheKey{}).(*probeCache)
	if c == nil {
		return d.net.Endpoint(ctx, endpoint)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.endpoints[endpoint]; ok {
		return r
	}
	r := d.net.Endpoint(ctx, endpoint)
	c.endpoints[endpoint] = r
	return r
}
