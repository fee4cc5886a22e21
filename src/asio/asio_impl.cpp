// The single definition of Asio's, Asio SSL's and Beast's out-of-line code for the whole build.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
