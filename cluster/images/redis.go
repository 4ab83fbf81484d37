package images

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// redisStore is one redis container's data.
type redisStore struct {
	mu     sync.Mutex
	str    map[string]string
	hashes map[string]map[string]string
	lists  map[string][]string
}

func (c Container) redis(ctx context.Context) int {
	now := func() string { return time.Now().UTC().Format("02 Jan 2006 15:04:05.000") }
	c.logf("1:C %s # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n", now())
	c.logf("1:C %s # Redis version=7.4.2, bits=64, commit=00000000, modified=0, pid=1, just started\n", now())
	c.logf("1:M %s * Running mode=standalone, port=6379.\n", now())
	ln, err := c.listen(ctx, "tcp", 6379)
	if err != nil && c.unreachable(err) {
		return c.idleUnreachable(ctx, 6379)
	}
	if err != nil {
		c.logf("1:M %s # Failed listening on port 6379 (tcp), aborting: %v\n", now(), errors.Unwrap(err))
		return 1
	}
	c.Listening()
	c.logf("1:M %s * Server initialized\n1:M %s * Ready to accept connections tcp\n", now(), now())
	st := &redisStore{str: map[string]string{}, hashes: map[string]map[string]string{}, lists: map[string][]string{}}
	var wg sync.WaitGroup
	conns := map[net.Conn]bool{}
	var mu sync.Mutex
	go func() {
		<-ctx.Done()
		ln.Close()
		mu.Lock()
		for cn := range conns {
			cn.Close()
		}
		mu.Unlock()
	}()
	for {
		cn, err := ln.Accept()
		if err != nil {
			break
		}
		mu.Lock()
		conns[cn] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.serveConn(cn)
			mu.Lock()
			delete(conns, cn)
			mu.Unlock()
			cn.Close()
		}()
	}
	wg.Wait()
	c.logf("1:signal-handler (%d) Received SIGTERM scheduling shutdown...\n1:M %s # Redis is now ready to exit, bye bye...\n", time.Now().Unix(), now())
	return 0
}

func (st *redisStore) serveConn(cn net.Conn) {
	r := bufio.NewReader(cn)
	w := bufio.NewWriter(cn)
	for {
		args, err := readCommand(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(w, "-ERR Protocol error: %v\r\n", err)
				w.Flush()
			}
			return
		}
		if len(args) == 0 {
			continue
		}
		st.do(w, args)
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}

// readCommand reads a RESP array of bulk strings, or an inline command.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "*") {
		return strings.Fields(line), nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("invalid multibulk length")
	}
	args := make([]string, 0, n)
	for range n {
		hdr, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(hdr, "$") {
			return nil, fmt.Errorf("expected '$', got '%.1s'", hdr)
		}
		l, err := strconv.Atoi(hdr[1:])
		if err != nil || l < 0 || l > 512<<20 {
			return nil, fmt.Errorf("invalid bulk length")
		}
		buf := make([]byte, l+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args = append(args, string(buf[:l]))
	}
	return args, nil
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func bulk(w io.Writer, s string) { fmt.Fprintf(w, "$%d\r\n%s\r\n", len(s), s) }
func null(w io.Writer)           { io.WriteString(w, "$-1\r\n") }
func integer(w io.Writer, n int) { fmt.Fprintf(w, ":%d\r\n", n) }
func array(w io.Writer, items []string) {
	fmt.Fprintf(w, "*%d\r\n", len(items))
	for _, s := range items {
		bulk(w, s)
	}
}

// do runs one command: the ones the decks and dockercoins use.
func (st *redisStore) do(w io.Writer, args []string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	cmd := strings.ToUpper(args[0])
	arity := map[string]int{"GET": 2, "SET": -3, "INCR": 2, "DECR": 2, "INCRBY": 3, "DECRBY": 3, "DEL": -2,
		"EXISTS": -2, "KEYS": 2, "HSET": -4, "HGET": 3, "HLEN": 2, "HGETALL": 2, "HKEYS": 2, "LPUSH": -3,
		"RPUSH": -3, "LLEN": 2, "LRANGE": 4, "LPOP": 2, "RPOP": 2, "ECHO": 2, "TYPE": 2}
	if n, ok := arity[cmd]; ok && (n > 0 && len(args) != n || n < 0 && len(args) < -n) {
		fmt.Fprintf(w, "-ERR wrong number of arguments for '%s' command\r\n", strings.ToLower(cmd))
		return
	}
	wrongType := func() { io.WriteString(w, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n") }
	switch cmd {
	case "PING":
		if len(args) > 1 {
			bulk(w, args[1])
		} else {
			io.WriteString(w, "+PONG\r\n")
		}
	case "ECHO":
		bulk(w, args[1])
	case "SELECT", "CLIENT", "AUTH", "QUIT", "READONLY":
		io.WriteString(w, "+OK\r\n")
	case "HELLO":
		io.WriteString(w, "-ERR unknown command 'HELLO'\r\n")
	case "INFO":
		bulk(w, fmt.Sprintf("# Server\r\nredis_version:7.4.2\r\nredis_mode:standalone\r\ntcp_port:6379\r\n# Keyspace\r\ndb0:keys=%d,expires=0,avg_ttl=0\r\n", st.keys()))
	case "DBSIZE":
		integer(w, st.keys())
	case "FLUSHALL", "FLUSHDB":
		st.str, st.hashes, st.lists = map[string]string{}, map[string]map[string]string{}, map[string][]string{}
		io.WriteString(w, "+OK\r\n")
	case "GET":
		if _, ok := st.str[args[1]]; !ok && st.typeOf(args[1]) != "none" {
			wrongType()
		} else if v, ok := st.str[args[1]]; ok {
			bulk(w, v)
		} else {
			null(w)
		}
	case "SET":
		st.del(args[1])
		st.str[args[1]] = args[2]
		io.WriteString(w, "+OK\r\n")
	case "INCR", "DECR", "INCRBY", "DECRBY":
		by := 1
		if len(args) == 3 {
			n, err := strconv.Atoi(args[2])
			if err != nil {
				io.WriteString(w, "-ERR value is not an integer or out of range\r\n")
				return
			}
			by = n
		}
		if strings.HasPrefix(cmd, "DECR") {
			by = -by
		}
		if t := st.typeOf(args[1]); t != "none" && t != "string" {
			wrongType()
			return
		}
		cur := 0
		if v, ok := st.str[args[1]]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				io.WriteString(w, "-ERR value is not an integer or out of range\r\n")
				return
			}
			cur = n
		}
		st.str[args[1]] = strconv.Itoa(cur + by)
		integer(w, cur+by)
	case "DEL":
		n := 0
		for _, k := range args[1:] {
			if st.del(k) {
				n++
			}
		}
		integer(w, n)
	case "EXISTS":
		n := 0
		for _, k := range args[1:] {
			if st.typeOf(k) != "none" {
				n++
			}
		}
		integer(w, n)
	case "TYPE":
		io.WriteString(w, "+"+st.typeOf(args[1])+"\r\n")
	case "KEYS":
		var out []string
		for _, m := range []map[string]bool{keysOf(st.str), keysOf(st.hashes), keysOf(st.lists)} {
			for k := range m {
				if ok, _ := path.Match(args[1], k); ok {
					out = append(out, k)
				}
			}
		}
		sort.Strings(out)
		array(w, out)
	case "HSET":
		if len(args)%2 != 0 {
			io.WriteString(w, "-ERR wrong number of arguments for 'hset' command\r\n")
			return
		}
		if t := st.typeOf(args[1]); t != "none" && t != "hash" {
			wrongType()
			return
		}
		h := st.hashes[args[1]]
		if h == nil {
			h = map[string]string{}
			st.hashes[args[1]] = h
		}
		n := 0
		for i := 2; i < len(args); i += 2 {
			if _, ok := h[args[i]]; !ok {
				n++
			}
			h[args[i]] = args[i+1]
		}
		integer(w, n)
	case "HGET":
		if v, ok := st.hashes[args[1]][args[2]]; ok {
			bulk(w, v)
		} else {
			null(w)
		}
	case "HLEN":
		integer(w, len(st.hashes[args[1]]))
	case "HKEYS", "HGETALL":
		h := st.hashes[args[1]]
		var keys []string
		for k := range h {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if cmd == "HKEYS" {
			array(w, keys)
			return
		}
		var out []string
		for _, k := range keys {
			out = append(out, k, h[k])
		}
		array(w, out)
	case "LPUSH", "RPUSH":
		if t := st.typeOf(args[1]); t != "none" && t != "list" {
			wrongType()
			return
		}
		l := st.lists[args[1]]
		for _, v := range args[2:] {
			if cmd == "LPUSH" {
				l = append([]string{v}, l...)
			} else {
				l = append(l, v)
			}
		}
		st.lists[args[1]] = l
		integer(w, len(l))
	case "LLEN":
		integer(w, len(st.lists[args[1]]))
	case "LPOP", "RPOP":
		l := st.lists[args[1]]
		if len(l) == 0 {
			null(w)
			return
		}
		var v string
		if cmd == "LPOP" {
			v, l = l[0], l[1:]
		} else {
			v, l = l[len(l)-1], l[:len(l)-1]
		}
		if len(l) == 0 {
			delete(st.lists, args[1])
		} else {
			st.lists[args[1]] = l
		}
		bulk(w, v)
	case "LRANGE":
		l := st.lists[args[1]]
		start, err1 := strconv.Atoi(args[2])
		stop, err2 := strconv.Atoi(args[3])
		if err1 != nil || err2 != nil {
			io.WriteString(w, "-ERR value is not an integer or out of range\r\n")
			return
		}
		if start < 0 {
			start = max(len(l)+start, 0)
		}
		if stop < 0 {
			stop = len(l) + stop
		}
		stop = min(stop, len(l)-1)
		if start > stop {
			array(w, nil)
			return
		}
		array(w, l[start:stop+1])
	default:
		fmt.Fprintf(w, "-ERR unknown command '%s', with args beginning with: \r\n", args[0])
	}
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func (st *redisStore) keys() int { return len(st.str) + len(st.hashes) + len(st.lists) }

func (st *redisStore) typeOf(k string) string {
	if _, ok := st.str[k]; ok {
		return "string"
	}
	if _, ok := st.hashes[k]; ok {
		return "hash"
	}
	if _, ok := st.lists[k]; ok {
		return "list"
	}
	return "none"
}

func (st *redisStore) del(k string) bool {
	t := st.typeOf(k)
	delete(st.str, k)
	delete(st.hashes, k)
	delete(st.lists, k)
	return t != "none"
}

// redisConn is the small client dockercoins' worker and webui use.
type redisConn struct {
	cn net.Conn
	r  *bufio.Reader
}

// call sends one command and returns its reply: a string, an int, nil,
// or an error for a redis error or a broken connection.
func (rc *redisConn) call(ctx context.Context, args ...string) (any, error) {
	if d, ok := ctx.Deadline(); ok {
		rc.cn.SetDeadline(d)
	} else {
		rc.cn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		bulk(&b, a)
	}
	if _, err := io.WriteString(rc.cn, b.String()); err != nil {
		return nil, err
	}
	line, err := readLine(rc.r)
	if err != nil {
		return nil, err
	}
	if line == "" {
		return nil, fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case ':':
		return strconv.Atoi(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}
