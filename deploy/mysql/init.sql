-- The engine creates and migrates its databases itself; it only needs to be allowed to.
GRANT ALL PRIVILEGES ON `flashsale%`.* TO 'flashsale'@'%';
