package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// runtimeLog is where --log, --log-format and --debug send the runtime's
// own messages. containerd and podman pass --log FILE --log-format json and
// read the last error line to explain a failure, so json lines carry
// exactly logrus's keys: level, msg, time.
type runtimeLog struct {
	mu    sync.Mutex
	w     io.Writer // nil: not configured (errors go to stderr as always)
	file  bool      // w is --log's file: stderr still gets the plain error
	json  bool
	debug bool
}

var rlog runtimeLog

// setupLog applies the logging flags; it runs once, after the parse.
func (g *Globals) setupLog(stderr io.Writer) error {
	rlog.json = g.LogFormat == "json"
	rlog.debug = g.Debug
	if g.Log != "" {
		f, err := os.OpenFile(g.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open --log %s: %w", g.Log, err)
		}
		rlog.w, rlog.file = f, true
	} else if rlog.json || rlog.debug {
		rlog.w = stderr
	}
	return nil
}

func (l *runtimeLog) write(level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if l.json {
		b, _ := json.Marshal(struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Time  string `json:"time"`
		}{level, msg, now})
		l.w.Write(append(b, '\n'))
		return
	}
	fmt.Fprintf(l.w, "time=%q level=%s msg=%s\n", now, level, strconv.Quote(msg))
}

func debugf(format string, args ...any) {
	if rlog.debug {
		rlog.write("debug", fmt.Sprintf(format, args...))
	}
}

// warnf reports a problem that does not fail the command (a poststart or
// poststop hook): in the log when there is one, else on stderr.
func warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if rlog.w == nil {
		fmt.Fprintf(os.Stderr, "container: warning: %s\n", msg)
		return
	}
	rlog.write("warning", msg)
}

// logError records the command's failure; it reports whether stderr
// still needs the plain message (it does unless the log is stderr).
func logError(err error) bool {
	rlog.write("error", err.Error())
	return rlog.w == nil || rlog.file
}
