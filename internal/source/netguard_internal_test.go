package source

import (
	"context"
	"errors"
	"net"
	"testing"
)

// The dialer judges the address a name resolves to, not the name: a DNS
// name pointing at loopback (here localhost, through the hosts file, with
// the by-name check left out) is refused at connect time.
func TestDialerChecksTheResolvedAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	g := newGuard(NetworkOptions{})
	_, err = g.dialer.DialContext(context.Background(), "tcp4", net.JoinHostPort("localhost", port))
	var ae *AddressError
	if !errors.As(err, &ae) || ae.Class != ClassLoopback || ae.Address != "127.0.0.1:"+port {
		t.Fatalf("got %v, want the resolved loopback address refused", err)
	}
}
