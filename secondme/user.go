package secondme

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Endpoint paths of user.go.
const (
	pathUserInfo   = "/api/secondme/user/info"
	pathUserShades = "/api/secondme/user/shades"
	pathAuthMe     = "/api/auth/me"
)

// UserInfo is the profile returned by user/info. Every field is optional.
type UserInfo struct {
	UserID              string // from "userId" or "id" (string or number)
	Name                string
	Email               string
	Avatar              string
	Bio                 string
	SelfIntroduction    string
	Route               string
	VoiceID             string
	ProfileCompleteness int // 0–100 before 2026-03-28, a 0–10 level since
}

type userInfoWire struct {
	UserID              flexString `json:"userId"`
	ID                  flexString `json:"id"`
	Name                flexString `json:"name"`
	Email               flexString `json:"email"`
	Avatar              flexString `json:"avatar"`
	Bio                 flexString `json:"bio"`
	SelfIntroduction    flexString `json:"selfIntroduction"`
	Route               flexString `json:"route"`
	VoiceID             flexString `json:"voiceId"`
	ProfileCompleteness flexInt    `json:"profileCompleteness"`
}

// UserInfo returns the profile of the token's owner (scope userinfo, older
// user.info).
//
// SecondMe API docs: https://develop-docs.second.me/en/docs/secondme/user
func (c *Client) UserInfo(ctx context.Context, token string) (*UserInfo, error) {
	var w userInfoWire
	if _, err := c.do(ctx, c.get(pathUserInfo, token, nil), &w); err != nil {
		return nil, err
	}
	return &UserInfo{
		UserID:              cmp.Or(w.UserID.V, w.ID.V),
		Name:                w.Name.V,
		Email:               w.Email.V,
		Avatar:              w.Avatar.V,
		Bio:                 w.Bio.V,
		SelfIntroduction:    w.SelfIntroduction.V,
		Route:               w.Route.V,
		VoiceID:             w.VoiceID.V,
		ProfileCompleteness: int(w.ProfileCompleteness.V),
	}, nil
}

// AuthMe is the reply of /api/auth/me. Only appScopedUserId is documented.
type AuthMe struct {
	// AppScopedUserID identifies the user to this app; the
	// authorization.revoked webhook uses it.
	AppScopedUserID string
}

// AuthMe returns the app-scoped user ID of the token's owner.
//
// SecondMe API docs: https://develop-docs.second.me/en/docs/authentication/oauth2
func (c *Client) AuthMe(ctx context.Context, token string) (*AuthMe, error) {
	var w struct {
		AppScopedUserID      flexString `json:"appScopedUserId"`
		AppScopedUserIDSnake flexString `json:"app_scoped_user_id"`
	}
	if _, err := c.do(ctx, c.get(pathAuthMe, token, nil), &w); err != nil {
		return nil, err
	}
	return &AuthMe{AppScopedUserID: cmp.Or(w.AppScopedUserID.V, w.AppScopedUserIDSnake.V)}, nil
}

// Shade is an interest tag of user/shades. In a shared channel show only
// the *Public fields.
type Shade struct {
	ID                         int64
	Name                       string
	Icon                       string
	ConfidenceLevel            string // VERY_HIGH, HIGH, MEDIUM, LOW, VERY_LOW
	Description                string
	DescriptionThirdView       string
	Content                    string
	ContentThirdView           string
	SourceTopics               []string
	NamePublic                 string
	IconPublic                 string
	ConfidenceLevelPublic      string
	DescriptionPublic          string
	DescriptionThirdViewPublic string
	ContentPublic              string
	ContentThirdViewPublic     string
	SourceTopicsPublic         []string
	HasPublicContent           bool
}

type shadeWire struct {
	ID                         flexInt     `json:"id"`
	Name                       flexString  `json:"shadeName"`
	Icon                       flexString  `json:"shadeIcon"`
	ConfidenceLevel            flexString  `json:"confidenceLevel"`
	Description                flexString  `json:"shadeDescription"`
	DescriptionThirdView       flexString  `json:"shadeDescriptionThirdView"`
	Content                    flexString  `json:"shadeContent"`
	ContentThirdView           flexString  `json:"shadeContentThirdView"`
	SourceTopics               flexStrings `json:"sourceTopics"`
	NamePublic                 flexString  `json:"shadeNamePublic"`
	IconPublic                 flexString  `json:"shadeIconPublic"`
	ConfidenceLevelPublic      flexString  `json:"confidenceLevelPublic"`
	DescriptionPublic          flexString  `json:"shadeDescriptionPublic"`
	DescriptionThirdViewPublic flexString  `json:"shadeDescriptionThirdViewPublic"`
	ContentPublic              flexString  `json:"shadeContentPublic"`
	ContentThirdViewPublic     flexString  `json:"shadeContentThirdViewPublic"`
	SourceTopicsPublic         flexStrings `json:"sourceTopicsPublic"`
	HasPublicContent           bool        `json:"hasPublicContent"`
}

func (w shadeWire) shade() Shade {
	return Shade{
		ID: w.ID.V, Name: w.Name.V, Icon: w.Icon.V, ConfidenceLevel: w.ConfidenceLevel.V,
		Description: w.Description.V, DescriptionThirdView: w.DescriptionThirdView.V,
		Content: w.Content.V, ContentThirdView: w.ContentThirdView.V, SourceTopics: w.SourceTopics,
		NamePublic: w.NamePublic.V, IconPublic: w.IconPublic.V, ConfidenceLevelPublic: w.ConfidenceLevelPublic.V,
		DescriptionPublic: w.DescriptionPublic.V, DescriptionThirdViewPublic: w.DescriptionThirdViewPublic.V,
		ContentPublic: w.ContentPublic.V, ContentThirdViewPublic: w.ContentThirdViewPublic.V,
		SourceTopicsPublic: w.SourceTopicsPublic, HasPublicContent: w.HasPublicContent,
	}
}

// UserShades returns the user's interest tags (scope userinfo, older
// user.info.shades). Only tags with public content are returned by the API.
//
// SecondMe API docs: https://develop-docs.second.me/en/docs/secondme/user
func (c *Client) UserShades(ctx context.Context, token string) ([]Shade, error) {
	var raw json.RawMessage
	if _, err := c.do(ctx, c.get(pathUserShades, token, nil), &raw); err != nil {
		return nil, err
	}
	var list []shadeWire
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, malformed(pathUserShades)
		}
	} else if len(raw) > 0 {
		var w struct {
			Shades []shadeWire `json:"shades"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, malformed(pathUserShades)
		}
		list = w.Shades
	}
	out := make([]Shade, 0, len(list))
	for _, w := range list {
		out = append(out, w.shade())
	}
	return out, nil
}

func (c *Client) get(path, token string, q map[string][]string) apiCall {
	return apiCall{method: http.MethodGet, path: path, token: token, query: q}
}

func malformed(path string) error {
	return fmt.Errorf("secondme: %s: decode data: %w", path, ErrMalformedResponse)
}
