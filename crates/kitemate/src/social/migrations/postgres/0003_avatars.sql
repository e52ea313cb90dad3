-- The avatar's key stem in the profile-pictures bucket: `<stem>-256.png`
-- and `<stem>-64.png`; none when the user has no picture.
ALTER TABLE profiles ADD COLUMN avatar_key TEXT;
