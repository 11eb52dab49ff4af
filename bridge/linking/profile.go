package linking

import (
	"context"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Profile is the SecondMe identity cached with a link: the name and the
// avatar picture the user's avatar answers under (platforms.Persona). It is
// read at /link and refreshed with every token refresh.
type Profile struct {
	Name      string
	AvatarURL string
}

// ProfileOf returns the cached profile of link ("" fields when SecondMe
// gave none).
func ProfileOf(link store.Link) Profile {
	return Profile{Name: link.Name, AvatarURL: link.AvatarURL}
}

// profile fetches the user's SecondMe profile with a fresh access token,
// for the refresh to store with it. A failure is logged and returns nil: the
// cached profile stays, and the next refresh tries again.
func (l *Linker) profile(ctx context.Context, user store.UserKey, accessToken string) *secondme.UserInfo {
	info, err := l.sm.UserInfo(ctx, accessToken)
	if err != nil || info == nil {
		l.log.WarnContext(ctx, "refresh SecondMe profile failed; keeping the cached name and avatar", userAttr(user), "error", err)
		return nil
	}
	return info
}

// withProfile returns x with the name and avatar of info. An empty field
// keeps the cached value (SecondMe leaves optional fields out); nil info
// changes nothing.
func withProfile(x store.Link, info *secondme.UserInfo) store.Link {
	if info == nil {
		return x
	}
	if info.Name != "" {
		x.Name = info.Name
	}
	if info.Avatar != "" {
		x.AvatarURL = info.Avatar
	}
	return x
}
