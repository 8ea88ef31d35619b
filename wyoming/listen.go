package wyoming

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// DefaultURI is where `hark serve` listens unless told otherwise: loopback only, on the port
// Wyoming speech-to-text servers use.
const DefaultURI = "tcp://127.0.0.1:10300"

// Listen opens the TCP listener a URI such as tcp://0.0.0.0:10300 names (the form the
// Wyoming servers' --uri flag takes).
func Listen(uri string) (net.Listener, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "tcp" || u.Host == "" || u.Path != "" {
		return nil, fmt.Errorf("--uri %q: expected tcp://HOST:PORT, e.g. %s", uri, DefaultURI)
	}
	if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
		return nil, fmt.Errorf("--uri %q: expected a port number after the host, e.g. %s", uri, DefaultURI)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", uri, err)
	}
	return ln, nil
}
