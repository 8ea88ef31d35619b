package remotellm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
)

// ErrInternet is returned by CheckEndpoint for an address outside loopback and the private
// LAN ranges when the internet is not allowed.
var ErrInternet = errors.New("the server is on the internet")

// CheckEndpoint checks an endpoint (http or https URL). Its host must be a loopback or
// private address (10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, fe80::/10), localhost,
// or a name that resolves only to such addresses, unless allowInternet.
func CheckEndpoint(ctx context.Context, endpoint string, allowInternet bool) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want an http:// or https:// address", endpoint)
	}
	if allowInternet {
		return u, nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if strings.EqualFold(host, "localhost") {
		return u, nil
	} else {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("endpoint %q: %w", endpoint, err)
		}
		addrs = ips
	}
	for _, a := range addrs {
		a = a.Unmap()
		if !(a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast()) {
			return nil, fmt.Errorf("endpoint %q (%s): %w", endpoint, a, ErrInternet)
		}
	}
	return u, nil
}

// ReadKey reads an API key from path: the first line, trimmed. The file must not be readable
// by others (mode o+r), as an SSH key must not.
func ReadKey(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("API key file: %w", err)
	}
	if st.Mode().Perm()&0o004 != 0 {
		return "", fmt.Errorf("API key file %s is readable by everyone (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("API key file: %w", err)
	}
	key, _, _ := strings.Cut(string(b), "\n")
	key = strings.TrimSpace(key)
	if key == "" {
		return "", fmt.Errorf("API key file %s is empty", path)
	}
	return key, nil
}

// httpClient is the client for one server: the CA file's certificates are trusted besides the
// system's. No overall timeout: a reply streams for as long as it takes; stalls are caught by
// the stream's own timer.
func httpClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 0
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}
