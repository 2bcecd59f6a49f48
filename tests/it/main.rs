mod cronjob;
