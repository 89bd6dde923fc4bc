"""pyvirtd's network filter driver (libvirt's nwfilter_driver.c, virnwfilterobj.c)."""
