package spec

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

const sizeWant = "want a size such as 512M, 1G, 1.5G or a plain number of bytes"

// sizeRE accepts a decimal number, an optional binary unit and an optional
// "B"/"iB" suffix ("iB" only after a unit: "5iB" means nothing).
var sizeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?(?:([kmgt])(i?b)?|(b))?$`) })

var sizeUnits = map[string]int64{
	"":  1,
	"k": 1 << 10,
	"m": 1 << 20,
	"g": 1 << 30,
	"t": 1 << 40,
}

// ParseSize parses a byte count such as "512M", "1.5G" or "100000".
// Units are binary (1K = 1024) as in docker's --memory; a fractional
// result is rounded down to whole bytes.
func ParseSize(s string) (int64, error) {
	m := sizeRE().FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return 0, invalid("size", s, sizeWant)
	}
	intPart, fracPart, unit := m[1], m[2], m[3]

	// Exact arithmetic: float64 would turn "1.1G" into 1181116006.4 and
	// then truncate differently on different inputs of the same value.
	n, ok := new(big.Int).SetString(intPart+fracPart, 10)
	if !ok {
		return 0, invalid("size", s, sizeWant)
	}
	n.Mul(n, big.NewInt(sizeUnits[unit]))
	n.Quo(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(fracPart))), nil))
	if !n.IsInt64() {
		return 0, invalid("size", s, "too large; the largest size is "+FormatSize(math.MaxInt64))
	}
	if n.Sign() <= 0 {
		return 0, invalid("size", s, "must be more than zero bytes")
	}
	return n.Int64(), nil
}

// FormatSize renders n in the largest binary unit that shows it exactly
// with at most two decimals, so the text can be pasted back into a flag.
func FormatSize(n int64) string {
	if n < 0 {
		if n == math.MinInt64 {
			return strconv.FormatInt(n, 10) + "B"
		}
		return "-" + FormatSize(-n)
	}
	units := []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n < u.size {
			continue
		}
		whole, rest := n/u.size, n%u.size
		// rest*100 cannot overflow: rest < 1<<40.
		if rest*100%u.size != 0 {
			continue
		}
		hundredths := rest * 100 / u.size
		switch {
		case hundredths == 0:
			return strconv.FormatInt(whole, 10) + u.name
		case hundredths%10 == 0:
			return strconv.FormatInt(whole, 10) + "." + strconv.FormatInt(hundredths/10, 10) + u.name
		default:
			return strconv.FormatInt(whole, 10) + "." + twoDigits(hundredths) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
