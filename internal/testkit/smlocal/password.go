package smlocal

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// Character classes of GetRandomPassword. punctuation is the documented set
// ! " # $ % & ' ( ) * + , - . / : ; < = > ? @ [ \ ] ^ _ ` { | } ~ .
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// PasswordSpec mirrors the parameters of GetRandomPassword.
type PasswordSpec struct {
	Length                  int // 1..4096, 0 means the default 32
	ExcludeCharacters       string
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	IncludeSpace            bool
	RequireEachIncludedType bool
}

// GeneratePassword draws a password from crypto/rand with the service's
// rules: the classes not excluded, minus ExcludeCharacters, plus space when
// IncludeSpace; with RequireEachIncludedType at least one character of each
// included letter/number/punctuation class. The space is never required.
func GeneratePassword(spec PasswordSpec) (string, error) {
	if spec.Length == 0 {
		spec.Length = 32
	}
	if spec.Length < 1 || spec.Length > 4096 {
		return "", fmt.Errorf("PasswordLength must be between 1 and 4096, got %d", spec.Length)
	}
	strip := func(set string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(spec.ExcludeCharacters, r) {
				return -1
			}
			return r
		}, set)
	}
	var classes []string
	for _, c := range []struct {
		set      string
		excluded bool
	}{
		{lowercase, spec.ExcludeLowercase},
		{uppercase, spec.ExcludeUppercase},
		{digits, spec.ExcludeNumbers},
		{punctuation, spec.ExcludePunctuation},
	} {
		if set := strip(c.set); !c.excluded && set != "" {
			classes = append(classes, set)
		}
	}
	all := strings.Join(classes, "")
	if spec.IncludeSpace {
		all += strip(" ")
	}
	if all == "" {
		return "", fmt.Errorf("the parameters exclude every character, so no password can be generated")
	}
	if spec.RequireEachIncludedType && spec.Length < len(classes) {
		return "", fmt.Errorf("PasswordLength %d is too short to include each of the %d required character types", spec.Length, len(classes))
	}
	out := make([]byte, 0, spec.Length)
	if spec.RequireEachIncludedType {
		for _, c := range classes {
			b, err := pick(c)
			if err != nil {
				return "", err
			}
			out = append(out, b)
		}
	}
	for len(out) < spec.Length {
		b, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, b)
	}
	// Shuffle so the required characters are not always in front.
	for i := len(out) - 1; i > 0; i-- {
		j, err := randInt(i + 1)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

func pick(set string) (byte, error) {
	i, err := randInt(len(set))
	if err != nil {
		return 0, err
	}
	return set[i], nil
}

func randInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("crypto/rand: %w", err)
	}
	return int(v.Int64()), nil
}

func (s *Server) getRandomPassword(in getRandomPasswordInput) (any, *apiError) {
	flag := func(b *bool, def bool) bool {
		if b == nil {
			return def
		}
		return *b
	}
	spec := PasswordSpec{
		Length:                  32,
		ExcludeNumbers:          flag(in.ExcludeNumbers, false),
		ExcludePunctuation:      flag(in.ExcludePunctuation, false),
		ExcludeUppercase:        flag(in.ExcludeUppercase, false),
		ExcludeLowercase:        flag(in.ExcludeLowercase, false),
		IncludeSpace:            flag(in.IncludeSpace, false),
		RequireEachIncludedType: flag(in.RequireEachIncludedType, true),
	}
	if in.PasswordLength != nil {
		if *in.PasswordLength < 1 || *in.PasswordLength > 4096 {
			return nil, newErr(errInvalidParameter, "PasswordLength must be between 1 and 4096.")
		}
		spec.Length = int(*in.PasswordLength)
	}
	if in.ExcludeCharacters != nil {
		spec.ExcludeCharacters = *in.ExcludeCharacters
	}
	pw, err := GeneratePassword(spec)
	if err != nil {
		return nil, newErr(errInvalidParameter, "%v", err)
	}
	return getRandomPasswordOutput{RandomPassword: pw}, nil
}
