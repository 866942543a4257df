-- A password changed from the profile screen (issue #10) tells the account's owner, like a reset by
-- email does: the alert is how a person learns that someone holding their session and password
-- changed it. No new table; the alert kinds grow by one.
alter table security_alerts drop constraint security_alerts_kind_check;
alter table security_alerts add constraint security_alerts_kind_check check (kind in ('password_guessing', 'password_reset', 'password_changed'));
