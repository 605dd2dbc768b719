package media

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// DefaultBatch is how many datagrams one batched read may return; past 8
// the gain flattens out on Linux.
const DefaultBatch = 8

// batchIO is what x/net's ipv4 and ipv6 PacketConns share.
type batchIO interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// ListenUDPBatch opens a UDP socket read with recvmmsg and written with
// sendmmsg (golang.org/x/net; other systems fall back to a datagram per
// call). Sessions read up to batch datagrams per system call. x/net
// allocates the sender address of every datagram it reads, so this pays
// off only when bursts arrive together, e.g. on a socket shared by many
// streams.
func ListenUDPBatch(addr netip.AddrPort, batch int) (PacketConn, error) {
	if batch < 1 {
		batch = DefaultBatch
	}
	c, err := net.ListenUDP(udpNetwork(addr.Addr()), net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	b := &batchConn{udpConn: udpConn{c: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort()}, batch: batch}
	if b.local.Addr().Is4() {
		b.io = ipv4.NewPacketConn(c)
	} else {
		b.io = ipv6.NewPacketConn(c)
	}
	b.rmsgs = make([]ipv4.Message, batch)
	for i := range b.rmsgs {
		b.rmsgs[i].Buffers = make([][]byte, 1)
	}
	return b, nil
}

type batchConn struct {
	udpConn
	io    batchIO
	batch int
	rmsgs []ipv4.Message // the read goroutine's

	wmu   sync.Mutex
	wmsgs []ipv4.Message
}

// BatchSize tells the session how many messages to offer ReadBatch.
func (b *batchConn) BatchSize() int { return b.batch }

func (b *batchConn) ReadBatch(ms []Message) (int, error) {
	k := min(len(ms), len(b.rmsgs))
	for i := range k {
		b.rmsgs[i].Buffers[0] = ms[i].Buf
	}
	n, err := b.io.ReadBatch(b.rmsgs[:k], 0)
	if err != nil {
		return 0, err
	}
	for i := range n {
		ms[i].N = b.rmsgs[i].N
		if ua, ok := b.rmsgs[i].Addr.(*net.UDPAddr); ok {
			ap := ua.AddrPort()
			ms[i].Addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	return n, nil
}

func (b *batchConn) WriteBatch(ms []Message) (int, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if cap(b.wmsgs) < len(ms) {
		b.wmsgs = make([]ipv4.Message, len(ms))
		for i := range b.wmsgs {
			b.wmsgs[i].Buffers = make([][]byte, 1)
		}
	}
	w := b.wmsgs[:len(ms)]
	for i := range ms {
		w[i].Buffers[0] = ms[i].Buf
		w[i].Addr = net.UDPAddrFromAddrPort(ms[i].Addr)
	}
	sent := 0
	for sent < len(w) {
		n, err := b.io.WriteBatch(w[sent:], 0)
		if err != nil {
			return sent, fmt.Errorf("media: batch write: %w", err)
		}
		sent += n
	}
	return sent, nil
}
